"""A content-hash cache of per-document validation (levels 1-3), so that a change to one
document does not pay for re-checking ten thousand unchanged ones.

What is cached is exactly what depends on one document's own files and the registries:
its annotation file passed levels 1-5 without an error (encoding, JSON, schema, spans
against its text, references within it and to the registries, its tables), and its
per-document warnings (``lints.CANDIDATE_CODES``: they read only its text and its own
annotations; null until a run with warnings has searched it). It also keeps the document's
row of the documents table (its metadata and text), so that an unchanged document is not
read at all. The key of a document is the sha256 of its three files' digests (annotation
file, corpus text and metadata) and of the registries' bytes; the cache files are named
after a hash of the package version, the package's own code and every schema file, so that
any change to the rules starts a fresh cache. What concerns the corpus as a whole (ids
across documents, the registries, the corpus-level warnings) always runs over the whole
corpus.

Which documents are unchanged is known without reading them, as git's index knows it: the stat
index (``StatIndex``, ``stat-<hash of the project's path>.arrow``) keeps, for each document, its key
and, for each of its three files, the size, modification and change times, inode and the sha256 of
its bytes when it was last read. A document whose files' stats are all the same still has those
bytes, so its key is known without reading or hashing anything; one changed within two seconds of the
index being written is not kept in it (its times could not tell a later change apart), and is read
again next time.

The cache is a few Arrow IPC files (``.peacetalks-cache/validated-<salt>-<n>.arrow``, or
under ``$PEACETALKS_CACHE_DIR``) with a ``key`` column and the validated ``record``; a run
appends a segment with what it checked (see ``Cache``). What a run will add does not wait in
memory: each shard spools its new entries to a temporary file (``NewEntries``), and the segment
is written from those files a batch at a time, in document order. Each file is written
atomically, and the cache is only an accelerator: a missing, unreadable or corrupt segment is
ignored, and a cache that cannot be written is skipped, never an error.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..defaults import MAX_CACHE_RUNS, MAX_SEGMENTS, SHARD_DOCS, STAT_DELTA_ROWS
from ..diagnostics.problems import is_utf8
from ..model.layers import DOCUMENT
from .corpus import DOCUMENT_COLUMNS, corpus_files
from .files import Listing, atomic_file, listing, stat_key
from .spool import spool

#: a cached warning of one document: its file (the document's text or annotation file), place, code,
#: message and hint
WARNING = pa.struct([("path", pa.string()), ("line", pa.int64()), ("column", pa.int64()), ("code", pa.string()),
                     ("message", pa.string()), ("hint", pa.string())])


def stored_warning(problem) -> dict:
    """A warning (a ``Problem``) as the cache keeps it (``WARNING``); ``Problem(**stored)`` makes it again."""
    return {f.name: getattr(problem, f.name) for f in WARNING}


#: a document's row of the documents table: its metadata and text
ROW = pa.struct(list(DOCUMENT_COLUMNS))
SCHEMA = pa.schema([("key", pa.string()), ("record", DOCUMENT), ("row", ROW), ("candidates", pa.list_(WARNING))])
#: a document's files, in the order of ``document_key``'s digests and of the stat index's columns
FILES = ("annotation", "text", "meta")
#: what the stat index compares of each file (``files.stat_key``)
_STAT_COLUMNS = [f"{f}_{s}" for f in FILES for s in ("size", "mtime", "ctime", "ino")]
#: the stat index: a row per document: its key and the registries' digest it was made with, and for each of
#: its files (``FILES``) its size, modification and change times (ns), inode, and the sha256 of its bytes
STATS = pa.schema([("document", pa.string()), ("key", pa.string()), ("registries", pa.string()),
                   *((c, pa.int64()) for c in _STAT_COLUMNS), *((f"{f}_sha256", pa.string()) for f in FILES)])
#: a file changed less than this before the index is written is left out of it (see the module's docstring)
RACY_NS = 2_000_000_000


def document_key(digests, registries: str) -> str:
    """A document's key: the digests of its annotation file, corpus text and metadata, and the registries'."""
    return hashlib.sha256("\0".join([*digests, registries]).encode()).hexdigest()


def index_path(folder: Path, root: Path) -> Path:
    """The stat index of the project at ``root`` in the cache folder."""
    return folder / f"stat-{hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:16]}.arrow"


class StatIndex:
    """The stat index at ``path`` (see the module's docstring): empty if missing or damaged.

    It is an Arrow table, one row per document (in no order: rows are found by hash), compared with
    the documents' files' stats a whole column at a time (``unchanged``). It also keeps the listings of
    the corpus folders with each folder's own stat: a folder whose stat is unchanged has the same
    entries (creating, removing or renaming an entry changes it), so it is not listed again (``listing``).

    It is two files: the base (``path``) and a small delta beside it (``<path stem>.delta.arrow``)
    with the rows of the documents read since the base was written, which replace the base's rows of
    the same documents, and the folder listings if they changed. A run that read one changed document
    writes the delta (kilobytes), not the base (~38 MB at 50,000 documents); the base is written again
    when the delta outgrows ``STAT_DELTA_ROWS`` or an eighth of the base, when half the base's rows are
    of documents gone or read again, or when the registries changed (every key is made again). Every
    row is a fact checked before it is used (its files' stats must still be the ones recorded, its key
    is made again for other registries), so a delta left beside a newer base is harmless.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.delta_path = path.with_name(f"{path.stem}.delta.arrow")
        self.table = STATS.empty_table()
        self.base_rows = 0  # the rows of ``table`` that come from the base file (the delta's follow)
        self.listings: dict[str, tuple[list, Listing]] = {}  # folder -> (its stat, its entries)
        self._used: dict[str, tuple[list, Listing]] = {}  # the listings of this run, for ``save``
        self._stored: dict[str, tuple[list, Listing]] = {}  # the base's listings
        self._metadata: dict[bytes, bytes] = {}  # the listings as the base stores them
        base, metadata = _read_stats(path)
        if base is None:
            return
        delta, delta_metadata = _read_stats(self.delta_path)
        try:
            if b"listings" in metadata:
                self._stored = _listings(orjson.loads(metadata[b"folders"]), metadata[b"listings"])
                self._metadata = {k: metadata[k] for k in (b"folders", b"listings")}
            self.listings = self._stored
            if delta is not None and b"listings" in delta_metadata:
                self.listings = _listings(orjson.loads(delta_metadata[b"folders"]), delta_metadata[b"listings"])
        except Exception:  # noqa: BLE001 - damaged listings: every folder is listed again
            self.listings = self._stored = {}
            self._metadata = {}
        if delta is not None and len(delta):
            base = base.filter(pc.invert(pc.is_in(base.column("document"), value_set=delta.column("document"))))
            self.table, self.base_rows = pa.concat_tables([base, delta]), len(base)
        else:
            self.table, self.base_rows = base, len(base)

    def __len__(self) -> int:
        return self.table.num_rows

    def __contains__(self, document: str) -> bool:
        return pc.is_in(pa.array([document], pa.string()), value_set=self.table.column("document"))[0].as_py()

    def unchanged(self, documents: pa.Array, now: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of these documents have the stats the index recorded for their three files (so still
        the bytes it digested), and their rows in the index (-1 where not indexed). ``now``: their files'
        stats (``stat_documents``). The comparison runs on whole columns."""
        rows = pc.index_in(documents, value_set=self.table.column("document"))
        rows = rows.fill_null(-1).to_numpy().astype(np.int64)
        known = rows >= 0
        if not known.any():
            return known, rows
        at = np.where(known, rows, 0)
        recorded = np.stack([self.table.column(c).to_numpy()[at] for c in _STAT_COLUMNS], axis=1)
        return known & (now == recorded).all(axis=1), rows

    def keys(self, rows: np.ndarray, registries: str) -> pa.Array:
        """The keys of the documents in these rows with these registries: the recorded ones, or, where
        they were made with other registries, made again from the recorded digests (nothing is read)."""
        taken = pa.array(rows, pa.int64())
        keys = self.table.column("key").take(taken)
        other = pc.not_equal(self.table.column("registries").take(taken), registries)
        if not len(rows) or not pc.any(other).as_py():
            return keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
        digests = zip(*(self.table.column(f"{f}_sha256").take(taken).to_pylist() for f in FILES))
        return pa.array([document_key(d, registries) for d in digests], pa.string())

    def listing(self, folder: str) -> Listing:
        """``files.listing(folder)``, from the index while the folder's stat is the one recorded."""
        stat = _stat(folder)
        known = self.listings.get(folder)
        if known is not None and list(known[0]) == list(stat) and stat[0] >= 0:
            entries = known[1]
        else:
            entries = listing(folder)
            if entries.undecodable or not is_utf8(folder):
                return entries  # (a name that is not UTF-8 cannot be kept: the folder is listed again next time)
        self._used[folder] = (list(stat), entries)
        return entries

    def save(self, rows: np.ndarray, keys: pa.Array, registries: str, entries: list[pa.Table]) -> None:
        """Write the index: the rows ``rows`` of this one (documents not read again), with their ``keys``
        for these ``registries``, and ``entries`` (tables of ``stat_rows``: the documents read now), but
        the racy ones; and the listings this run used, but those of folders changed just before. Into
        the delta while it stays small and the keys are the recorded ones, else into the base (see the
        class's docstring)."""
        limit = time.time_ns() - RACY_NS
        fresh = pa.concat_tables([STATS.empty_table(), *entries])
        if len(fresh):
            fresh = fresh.filter(pc.less(_changed_at(fresh), limit))
        order = np.argsort(rows, kind="stable")
        rows, keys = rows[order], keys.take(pa.array(order, pa.int64()))
        taken = pa.array(rows, pa.int64())
        rekeyed = bool(len(rows)) and pc.any(pc.not_equal(self.table.column("registries").take(taken),
                                                          registries)).as_py()
        listings = {folder: (stat, names) for folder, (stat, names) in sorted(self._used.items())
                    if stat[0] >= 0 and max(stat[1], stat[2]) < limit}
        in_base = int(np.searchsorted(rows, self.base_rows))  # rows of the base still true
        old_delta = rows[in_base:]
        delta_rows = len(old_delta) + len(fresh)
        if self.base_rows and not rekeyed and delta_rows <= max(STAT_DELTA_ROWS, self.base_rows // 8) \
                and 2 * in_base >= self.base_rows:
            delta = pa.concat_tables([self.table.take(pa.array(old_delta, pa.int64())), fresh])
            if listings == self.listings and delta.equals(self.table.slice(self.base_rows)):
                return  # (nothing new: no document read, or only racy ones)
            self._write(self.delta_path, delta, None if listings == self._stored else _stored_listings(listings))
            return
        whole = len(rows) == len(self.table) and (not len(rows) or rows[-1] == len(rows) - 1)
        kept = self.table if whole else self.table.take(taken)
        if rekeyed:  # (the same documents, their keys made again for the registries of now)
            kept = kept.set_column(STATS.get_field_index("key"), "key", keys) \
                .set_column(STATS.get_field_index("registries"), "registries", pa.array([registries] * len(kept)))
        if len(kept):
            recent = pc.greater_equal(_changed_at(kept), limit)
            if pc.any(recent).as_py():
                kept = kept.filter(pc.invert(recent))
        table = pa.concat_tables([kept, fresh]) if len(fresh) else kept  # (in no order: it is looked up by hash)
        if listings == self._stored and self.base_rows == len(self.table) and table.equals(self.table):
            return
        metadata = self._metadata if listings == self._stored and self._metadata else _stored_listings(listings)
        if self._write(self.path, table, metadata):
            self.delta_path.unlink(missing_ok=True)  # (what it held is in the base now)

    @staticmethod
    def _write(path: Path, table: pa.Table, metadata: dict[bytes, bytes] | None) -> bool:
        table = table.replace_schema_metadata(metadata)
        try:
            with atomic_file(path, durable=False) as f, pa.ipc.new_file(f, table.schema) as writer:
                writer.write_table(table)  # (written as it is, not first copied into one buffer)
            return True
        except OSError:
            return False  # a read-only checkout still validates, just without an index


def _changed_at(table: pa.Table) -> pa.ChunkedArray:
    """When a stat index row last changed: the latest modification or change time of its files."""
    return pc.max_element_wise(*(table.column(f"{f}_{t}") for f in FILES for t in ("mtime", "ctime")))


def stat_rows(documents: list[tuple[str, str, list[tuple]]], registries: str) -> pa.Table:
    """Documents read now, as rows of the stat index (``STATS``): each one's id, key, and its files' stamps
    (``files.read_bytes``'s: size, mtime, ctime, inode, sha256), in the order of ``FILES``; what a shard
    hands back for ``StatIndex.save``."""
    columns = {"document": [d for d, _, _ in documents], "key": [k for _, k, _ in documents],
               "registries": [registries] * len(documents)}
    for i, f in enumerate(FILES):
        for j, what in enumerate(("size", "mtime", "ctime", "ino", "sha256")):
            columns[f"{f}_{what}"] = [stamps[i][j] for _, _, stamps in documents]
    return pa.table(columns, schema=STATS)


def _read_stats(path: Path) -> tuple[pa.Table | None, dict]:
    """A stat index file's table and metadata; (None, {}) if missing or damaged."""
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
        metadata = table.schema.metadata or {}
        table = table.replace_schema_metadata(None)
        if table.schema.equals(STATS):
            return table, metadata
    except Exception:  # noqa: BLE001 - a missing or damaged index: every file is read
        pass
    return None, {}


def _stored_listings(listings: dict[str, tuple[list, Listing]]) -> dict[bytes, bytes]:
    """Folder listings as an index file's metadata (``folders``: their stats, ``listings``: their entries)."""
    entries = pa.table({"folder": pa.array([f for f, (_, e) in listings.items() for _ in range(len(e.names))],
                                           pa.string()),
                        "name": pa.concat_arrays([pa.array([], pa.string()), *(e.names for _, e in listings.values())]),
                        "is_file": pa.concat_arrays([pa.array([], pa.bool_()),
                                                     *(e.regular for _, e in listings.values())])})
    return {b"folders": orjson.dumps({f: s for f, (s, _) in listings.items()}), b"listings": _ipc(entries)}


def _listings(stats: dict, data: bytes) -> dict[str, tuple[list, Listing]]:
    """The folder listings kept in an index (its ``folders`` and ``listings`` metadata), as Arrow columns."""
    table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
    out: dict[str, tuple[list, Listing]] = {}
    for folder, stat in stats.items():
        rows = table.filter(pc.equal(table.column("folder"), folder))
        out[folder] = (list(stat), Listing(rows.column("name").combine_chunks(),
                                           rows.column("is_file").combine_chunks()))
    return out


def stat_documents(job: tuple[str, str, list[str]]) -> np.ndarray:
    """What the index compares of these documents' files (``FILES``: ``files.stat_key`` of each, -1s where
    one is gone), a row of 12 each: one ``stat`` per file, the work of a shard of documents
    (``checks/validate.py`` runs them over every core). ``job``: the annotation files' folder, the
    corpus folder (``str(project.documents)``, ``str(project.corpus)``) and the documents' ids."""
    documents, corpus, stems = job
    out = np.empty((len(stems), 3 * 4), np.int64)
    for i, stem in enumerate(stems):
        text, meta = corpus_files(corpus, stem)
        out[i] = (*_stat(f"{documents}/{stem}.json"), *_stat(text), *_stat(meta))
    return out


def stat_folder(folders: tuple[str, str]) -> tuple[list[str], np.ndarray]:
    """``stat_documents`` of every <name>.json entry (its name UTF-8) of the annotation files' folder (``folders``: it and the
    corpus folder, as for ``stat_documents``): what a ``peacetalks validate`` takes while it imports the
    checks (``checks.runner.begin``), before it knows its documents (the names, in order, and their rows).

    A superset, found by the suffix alone: which of them are documents is the listing's rule
    (``files.Listing.id_files``), and the rows of the others are simply not used (``_plan``'s ``_stats``).
    Not the listing itself: in the worker that takes the stats, which has only the command's first
    imports, a name list made an Arrow column would first import pandas (pyarrow does, at its first
    conversion from Python objects): 0.45-0.9 s, more than the checks' imports it runs beside, so the
    run waited for it (measured 2026-11-27, fresh re-checks at 50,000 documents, four alternating pairs:
    median 2.32 s with the listing, 1.90 s without)."""
    documents, corpus = folders
    try:
        with os.scandir(documents) as entries:
            stems = sorted(e.name[:-5] for e in entries if e.name.endswith(".json") and is_utf8(e.name))
            # (a name that is not UTF-8 is no document, and no Arrow string could hold it: ``_stats`` looks
            # the documents up among these names a column at a time)
    except OSError:
        stems = []
    return stems, stat_documents((documents, corpus, stems))


def _stat(path: str) -> tuple[int, int, int, int]:
    """What the index compares of a file (``files.stat_key``); -1s if it is gone."""
    try:
        return stat_key(os.stat(path))
    except OSError:
        return (-1, -1, -1, -1)


def _salt(schema_dir: Path) -> str:
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]  # every module of the package, subpackages included
    for path in sorted(package.rglob("*.py")) + sorted(schema_dir.glob("*.json")):
        h.update(str(path.relative_to(package) if path.is_relative_to(package) else path.name).encode()
                 + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def cache_path(folder: Path, schema_dir: Path) -> Path:
    """Where the cache of this package's code and these schemas lives in ``folder``: the common prefix
    of its segment files (``validated-<salt>-<n>.arrow``)."""
    return folder / f"validated-{_salt(schema_dir)}"


def _segment_number(path: Path) -> int:
    try:
        return int(path.stem.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def segments(base: Path) -> list[Path]:
    """The segment files of the cache at ``base``, in order."""
    if not base.parent.is_dir():
        return []
    return sorted((p for p in base.parent.glob(f"{base.name}-*.arrow") if _segment_number(p) >= 0), key=_segment_number)


def stamp(base: Path) -> tuple:
    """What says the cache at ``base`` is unchanged: its segments' names, sizes and modification times."""
    out = []
    for segment in segments(base):
        try:
            s = segment.stat()
            out.append((segment.name, s.st_size, s.st_mtime_ns))
        except OSError:
            out.append((segment.name,))
    return tuple(out)


#: the cache this process opened last (``Cache.open``), by its base and stamp
_OPENED: dict[tuple, "Cache"] = {}


class Cache:
    """The cache at ``base`` (see ``cache_path``): its segment files, memory-mapped, read in order
    (an entry in a later segment replaces one of the same key in an earlier one); empty if there
    are none, and a damaged segment is left out.

    A run that checked a few documents appends one small segment with their entries (``save``, a
    batch at a time from the shards' spooled ones), instead of rewriting the cache: a one-document
    change to a large corpus writes kilobytes, not the whole cache. When the segments are
    ``MAX_SEGMENTS``, the small ones are merged: the live entries of the segments after the largest
    one (the base, which the last full compaction wrote) become one segment, and the base is left as
    it is, so that every sixteenth re-check does not rewrite the whole cache (~7 s at 50,000 documents). When more than half the rows are stale (documents that
    changed or left), or the live entries are scattered over more than ``MAX_CACHE_RUNS`` runs of
    rows (each is flattened on its own: every document changed since the last compaction splits
    one), they are written as one new segment and the old ones removed.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.table = SCHEMA.empty_table()
        self.rows: dict[str, int] = {}
        self.segments = segments(base)
        self.loaded: list[tuple[Path, int]] = []  # the segments read, in order, with their numbers of rows
        tables = []
        for segment in self.segments:
            try:
                with pa.memory_map(str(segment)) as source:
                    table = pa.ipc.open_file(source).read_all()
                if table.schema.equals(SCHEMA):
                    tables.append(table)
                    self.loaded.append((segment, table.num_rows))
            except Exception:  # noqa: BLE001 - a damaged segment: left out
                pass
        if tables:
            self.table = pa.concat_tables(tables)
            self.rows = {k: i for i, k in enumerate(self.table.column("key").to_pylist())}

    @classmethod
    def open(cls, base: Path) -> "Cache":
        """The cache at ``base``, opened once per process while its segments are unchanged (``stamp``): a
        validation and the shards it checks in its own process share it."""
        key = (str(base), stamp(base))
        if key not in _OPENED:
            _OPENED.clear()
            _OPENED[key] = cls(base)
        return _OPENED[key]

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def gather(self, keys: list[str]) -> "Entries":
        """The entries of these keys, in this order (``Entries``: their columns, each taken when asked)."""
        return Entries(self.table, np.fromiter((self.rows[k] for k in keys), np.int64, len(keys)))

    def _unsearched(self) -> set[str]:
        """The keys whose candidate warnings were never searched."""
        never = pc.is_null(self.table.column("candidates"))
        return set(pc.filter(self.table.column("key"), never).to_pylist()) if self.table.num_rows else set()

    def save(self, keep: list[str], parts: list["NewEntries"], candidates: dict[str, list[dict]] | None = None) -> None:
        """Keep the entries of ``keep`` (documents still valid and unchanged), add the new ones (``parts``,
        a shard's each). ``candidates`` (by key) replaces the candidate warnings of kept entries.

        The segment is written batch by batch (``_merged``): what this process holds of it at once is a
        batch, whatever the number of documents.
        """
        parts = [part for part in parts if part.keys]
        added = sum(len(part.keys) for part in parts)
        candidates = candidates or {}
        kept = [k for k in keep if k in self.rows]
        unsearched = self._unsearched()
        searched = [k for k in kept if k in unsearched and k in candidates]  # newly searched
        live = len(kept) + added
        if not added and not searched and len(kept) == len(self.rows):
            return  # nothing changed
        at = np.sort(np.fromiter((self.rows[k] for k in kept), np.int64, len(kept)))
        runs = (1 + int(np.count_nonzero(np.diff(at) != 1)) if len(at) else 0) + added
        compact = self.table.num_rows + added > 2 * live or runs > MAX_CACHE_RUNS or not self.loaded
        merged: list[Path] = []  # the segments after the base, which the new one replaces
        if not compact and len(self.segments) + 1 >= MAX_SEGMENTS:
            base = max(range(len(self.loaded)), key=lambda i: self.loaded[i][1])
            merged = self.segments[self.segments.index(self.loaded[base][0]) + 1:]  # (damaged ones too)
            if len(merged) < 2:  # nothing to merge after the largest one: compact them all
                compact, merged = True, []
        if compact or merged:  # the live entries as one segment; with ``merged``, those that were in them
            after = sum(n for _, n in self.loaded[:base + 1]) if merged else 0
            fresh = set(searched)
            moved = [k for k in kept if self.rows[k] >= after or k in fresh]
        else:  # only what is new: the new entries, and the kept ones whose candidates are known now
            moved = searched
        number = max((_segment_number(p) for p in self.segments), default=-1) + 1
        try:
            others = list(self.base.parent.glob("validated-*.arrow")) if self.base.parent.is_dir() else []
            target = self.base.parent / f"{self.base.name}-{number}.arrow"
            with atomic_file(target, durable=False) as f, pa.ipc.new_file(f, SCHEMA) as writer:
                for batch in self._merged(moved, parts, candidates):
                    writer.write_batch(batch)
            for stale in others:  # caches of older rules or code; after a compaction, the old segments
                if not stale.name.startswith(self.base.name + "-") or (compact and stale != target):
                    stale.unlink(missing_ok=True)
            for stale in merged:  # (what they held that is still live is in the new one)
                stale.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still validates, just without a cache

    def _merged(self, moved: list[str], parts: list["NewEntries"], candidates: dict[str, list[dict]]):
        """The entries of ``moved`` (this cache's; ``candidates`` replaces theirs) and of ``parts``, in
        document order (then key), as record batches of ``SHARD_DOCS`` entries: each is gathered from
        slices of the sources (runs of consecutive rows), so only a batch is copied at once, and a part is
        read when its entries are reached (the parts are shards, in document order: each is read once)."""
        kept = self.gather(moved)
        documents = pa.chunked_array([pc.struct_field(c, "document") for c in kept.records.chunks]
                                     + [pa.array(part.documents, pa.string()) for part in parts], pa.string())
        keys = pa.chunked_array([pa.array(k, pa.string()) for k in [moved, *(part.keys for part in parts)]])
        sort = pc.sort_indices(pa.table({"document": documents, "key": keys}),
                               [("document", "ascending"), ("key", "ascending")]).to_numpy()
        source = np.concatenate([np.zeros(len(moved), np.int64),
                                 *(np.full(len(part.keys), j + 1, np.int64) for j, part in enumerate(parts))])[sort]
        row = np.concatenate([kept.rows,
                              *(np.arange(len(part.keys), dtype=np.int64) for part in parts)])[sort]
        read: tuple[int, pa.Table] = (0, self.table)  # (the part read last)
        for lo in range(0, len(row), SHARD_DOCS):
            s, r = source[lo:lo + SHARD_DOCS], row[lo:lo + SHARD_DOCS]
            cut = [0, *(np.flatnonzero((np.diff(s) != 0) | (np.diff(r) != 1)) + 1).tolist(), len(r)]
            pieces = []
            for a, b in zip(cut, cut[1:]):
                j = int(s[a])
                if j == 0:
                    piece = self.table.slice(int(r[a]), b - a)
                    pieces.append(_with_candidates(piece, candidates) if candidates else piece)
                    continue
                if read[0] != j:
                    read = (j, parts[j - 1].read())
                pieces.append(read[1].slice(int(r[a]), b - a))
            yield pa.concat_tables(pieces).combine_chunks().to_batches()[0]


def _with_candidates(piece: pa.Table, candidates: dict[str, list[dict]]) -> pa.Table:
    """Cache entries with the candidate warnings of ``candidates`` in place of theirs, where it has any."""
    keys = piece.column("key").to_pylist()
    if not any(k in candidates for k in keys):
        return piece
    old = piece.column("candidates").to_pylist()
    found = pa.array([candidates.get(k, o) for k, o in zip(keys, old)], pa.list_(WARNING))
    return piece.set_column(SCHEMA.get_field_index("candidates"), "candidates", found)


class Entries:
    """Some entries of a cache, in the order asked (``Cache.gather``): a column's values are taken once,
    when first asked for. The entries are kept in document order, so unchanged documents are a few runs
    of consecutive rows: each column is a few slices of the memory-mapped segments, one chunk each, not
    copied (a ``take`` of nested values costs per value, and a copy would read every page of the cache).
    The runs are found once, a whole column of rows at a time, for every column asked."""

    def __init__(self, table: pa.Table, rows: np.ndarray) -> None:
        self.table = table
        self.rows = rows  # (the entries' rows in ``table``)
        cuts = [0, *(np.flatnonzero(np.diff(rows) != 1) + 1).tolist(), len(rows)] if len(rows) else [0]
        self.runs = [(int(rows[a]), b - a) for a, b in zip(cuts, cuts[1:])]  # (first row, length)

    def column(self, name: str) -> pa.ChunkedArray:
        """A column's values for these entries, in their order."""
        data = self.table.column(name)
        return pa.chunked_array([chunk for start, length in self.runs for chunk in data.slice(start, length).chunks],
                                data.type)

    @cached_property
    def records(self) -> pa.ChunkedArray:
        """Their validated records."""
        return self.column("record")

    @cached_property
    def documents(self) -> pa.Table:
        """Their documents-table rows (metadata and text)."""
        rows = self.column("row")
        return pa.table([pc.struct_field(rows, [i]) for i in range(len(ROW))], schema=DOCUMENT_COLUMNS)

    @cached_property
    def candidates(self) -> pa.ChunkedArray:
        """Their candidate warnings, as Arrow lists (null where never searched)."""
        return self.column("candidates")


@dataclass
class NewEntries:
    """New entries of the cache, from one shard: the documents that passed and their keys, in document
    order, and their entries (``SCHEMA``: key, record, documents-table row, candidate warnings), in
    memory (``table``) or in an Arrow IPC file (``path``). A file is read, not mapped, when the entries
    are written into a segment (``read``): what a process holds of them is one shard's, and nothing of
    them stays in its memory after (mapped pages stay resident, and counted, while the mapping lives)."""

    documents: list[str]
    keys: list[str]
    table: pa.Table | None = None
    path: str | None = None

    @classmethod
    def of(cls, documents: list[str], keys: list[str], records: pa.Array, rows: pa.Table,
           found: list[list[dict] | None], spool_to: str | None = None) -> "NewEntries":
        """The entries of these documents (``found``: their candidate warnings, None where not searched), in
        memory, or spooled to a new file in the folder ``spool_to``."""
        table = pa.table({"key": pa.array(keys, pa.string()), "record": records.cast(DOCUMENT),
                          "row": rows.cast(DOCUMENT_COLUMNS).to_struct_array().combine_chunks() if len(keys)
                          else pa.array([], ROW), "candidates": pa.array(found, pa.list_(WARNING))}, schema=SCHEMA)
        if spool_to is None or not keys:
            return cls(documents, keys, table=table)
        return cls(documents, keys, path=spool({"entries": table}, spool_to)["entries"])

    def read(self) -> pa.Table:
        if self.table is not None:
            return self.table
        with pa.OSFile(self.path) as source:
            return pa.ipc.open_file(source).read_all()


#: what the corpus-level warnings counted and W001/W007 found in the last run (``checks.lints.BareNames``):
#: the corpus's names (their usual type, their documents), how often each name has each type, and each
#: document's key and W001/W007 warnings
NAMES = pa.schema([("text", pa.string()), ("type", pa.string()), ("docs", pa.int64())])
COUNTS = pa.schema([("text", pa.string()), ("type", pa.string()), ("n", pa.int64())])
FOUND = pa.schema([("document", pa.string()), ("key", pa.string()), ("warnings", pa.list_(WARNING))])


def lint_state_path(base: Path, root: Path) -> Path:
    """Where the corpus-level warnings of the project at ``root`` are kept beside the cache at ``base``."""
    return base.parent / f"lints-{base.name.rsplit('-', 1)[-1]}-{index_path(base.parent, root).stem[5:]}.arrow"


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def load_lint_state(path: Path) -> tuple[pa.Table, pa.Table, pa.Table] | None:
    """The names, counts and found tables kept at ``path``, or None (missing, damaged or of another
    shape: the names are counted and searched in every document)."""
    try:
        with pa.memory_map(str(path)) as source:
            found = pa.ipc.open_file(source).read_all()
        names = pa.ipc.open_file(pa.BufferReader(found.schema.metadata[b"names"])).read_all()
        counts = pa.ipc.open_file(pa.BufferReader(found.schema.metadata[b"counts"])).read_all()
        if not found.schema.remove_metadata().equals(FOUND) or not names.schema.equals(NAMES) \
                or not counts.schema.equals(COUNTS):
            return None
        return names, counts, found.replace_schema_metadata(None)
    except Exception:  # noqa: BLE001 - no state: the warnings are searched in every document
        return None


def save_lint_state(path: Path, names: pa.Table, counts: pa.Table, found: pa.Table) -> None:
    """Keep the names, counts and found tables at ``path``: one file, written atomically (the names and
    counts ride in its metadata), so that they always belong together; the found table is written as
    it is, not first copied into one buffer."""
    table = found.cast(FOUND).replace_schema_metadata({b"names": _ipc(names.cast(NAMES)),
                                                       b"counts": _ipc(counts.cast(COUNTS))})
    try:
        with atomic_file(path, durable=False) as f, pa.ipc.new_file(f, table.schema) as writer:
            writer.write_table(table)
        for stale in path.parent.glob(f"lints-*-{path.name.rsplit('-', 1)[-1]}"):
            if stale != path:
                stale.unlink(missing_ok=True)  # another version of the rules
    except OSError:
        pass
