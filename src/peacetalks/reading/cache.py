"""A content-hash cache of per-document validation (levels 1-3), so that a change to one
document does not pay for re-checking ten thousand unchanged ones.

What is cached is exactly what depends on one document's own files and the registries:
its annotation file passed levels 1-5 without an error (encoding, JSON, schema, spans
against its text, references within it and to the registries, its tables), and its
per-document warnings (``lints.CANDIDATE_CODES``: they read only its text and its own
annotations; null until a run with warnings has searched it). The key of a document is
the sha256 of its annotation file's bytes, its corpus text and metadata, and the
registries' bytes; the cache files are named after a hash of the package version, the
package's own code and every schema file, so that any change to the rules starts a fresh
cache. What concerns the corpus as a whole (ids across documents, the registries, the
corpus-level warnings) always runs over the whole corpus.

The cache is a few Arrow IPC files (``.peacetalks-cache/validated-<salt>-<n>.arrow``, or
under ``$PEACETALKS_CACHE_DIR``) with a ``key`` column and the validated ``record``; a run
appends a segment with what it checked (see ``Cache``). Each is written atomically, and the
cache is only an accelerator: a missing, unreadable or corrupt segment is ignored, and a
cache that cannot be written is skipped, never an error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..defaults import MAX_SEGMENTS
from ..model.layers import DOCUMENT
from .files import atomic_write

#: a cached warning of one document: its file (the document's text or annotation file), place, code,
#: message and hint
WARNING = pa.struct([("path", pa.string()), ("line", pa.int64()), ("column", pa.int64()), ("code", pa.string()),
                     ("message", pa.string()), ("hint", pa.string())])
SCHEMA = pa.schema([("key", pa.string()), ("record", DOCUMENT), ("candidates", pa.list_(WARNING))])


def document_key(annotation: bytes, text_digest: str) -> str:
    return hashlib.sha256(annotation + b"\0" + text_digest.encode()).hexdigest()


def text_digest(text: str, meta: bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") + b"\0" + meta).hexdigest()


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


class Cache:
    """The cache at ``base`` (see ``cache_path``): its segment files, memory-mapped, read in order
    (an entry in a later segment replaces one of the same key in an earlier one); empty if there
    are none, and a damaged segment is left out.

    A run that checked a few documents appends one small segment with their entries, instead of
    rewriting the cache: a one-document change to a large corpus writes kilobytes, not the whole
    cache. When more than half the rows are stale (documents that changed or left), or the
    segments are ``MAX_SEGMENTS``, the live entries are written as one new segment and the old
    ones removed.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.table = SCHEMA.empty_table()
        self.rows: dict[str, int] = {}
        self.segments = segments(base)
        tables = []
        for segment in self.segments:
            try:
                with pa.memory_map(str(segment)) as source:
                    table = pa.ipc.open_file(source).read_all()
                if table.schema.equals(SCHEMA):
                    tables.append(table)
            except Exception:  # noqa: BLE001 - a damaged segment: left out
                pass
        if tables:
            self.table = pa.concat_tables(tables)
            self.rows = {k: i for i, k in enumerate(self.table.column("key").to_pylist())}

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def records(self, keys: list[str]) -> pa.Array:
        """The cached validated records of these keys, in this order."""
        if not keys:
            return pa.array([], DOCUMENT)
        rows = pa.array([self.rows[k] for k in keys], pa.int64())
        return self.table.column("record").take(rows).combine_chunks()

    def candidates(self, keys: list[str]) -> list[list[dict] | None]:
        """The cached candidate warnings of these keys (None where never searched)."""
        if not keys:
            return []
        return self.table.column("candidates").take(pa.array([self.rows[k] for k in keys], pa.int64())).to_pylist()

    def save(self, keep: list[str], new_keys: list[str], new_records: pa.Array,
             candidates: dict[str, list[dict]] | None = None) -> None:
        """Keep the entries of ``keep`` (documents still valid and unchanged), add the new ones.

        ``candidates`` (by key) replaces the candidate warnings of kept or new entries.
        """
        candidates = candidates or {}
        kept = [k for k in keep if k in self.rows]
        old = self.candidates(kept)
        searched = [k for i, k in enumerate(kept) if old[i] is None and k in candidates]  # newly searched
        live = len(kept) + len(new_keys)
        if not new_keys and not searched and len(kept) == len(self.rows):
            return  # nothing changed
        compact = (self.table.num_rows + len(new_keys) > 2 * live or len(self.segments) + 1 >= MAX_SEGMENTS
                   or not self.segments)
        if compact:  # the live entries as one segment
            keys = kept + new_keys
            records = pa.concat_arrays([self.records(kept), new_records.cast(DOCUMENT)])
            found = [candidates.get(k, old[i]) for i, k in enumerate(kept)] + [candidates.get(k) for k in new_keys]
        else:  # only what is new: the new entries, and the kept ones whose candidates are known now
            keys = searched + new_keys
            records = pa.concat_arrays([self.records(searched), new_records.cast(DOCUMENT)])
            found = [candidates[k] for k in searched] + [candidates.get(k) for k in new_keys]
        table = pa.table({"key": pa.array(keys, pa.string()), "record": records,
                          "candidates": pa.array(found, pa.list_(WARNING))}, schema=SCHEMA)
        table = table.take(pc.sort_indices(table.column("key")))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, SCHEMA) as writer:
            writer.write_table(table)
        number = max((_segment_number(p) for p in self.segments), default=-1) + 1
        try:
            others = list(self.base.parent.glob("validated-*.arrow")) if self.base.parent.is_dir() else []
            target = self.base.parent / f"{self.base.name}-{number}.arrow"
            atomic_write(target, sink.getvalue().to_pybytes())
            for stale in others:  # caches of older rules or code; after a compaction, the old segments
                if not stale.name.startswith(self.base.name + "-") or (compact and stale != target):
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still validates, just without a cache
