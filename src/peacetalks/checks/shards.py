"""The per-document work, as one function of a shard of documents (flake8's ``FileChecker``).

``check_shard`` takes a few hundred documents, in id order, and does everything that
depends on those documents' own files only:

1. level 1-2 of their corpus text and metadata, and of their annotation file (``reading/``);
   a document whose files are unchanged since they last passed levels 1-3 comes from the
   cache instead (``reading/cache.py``);
2. one table per layer for the shard (``reading.annotations.flatten``), with the registries;
3. ``check_document_levels``: level 3 (spans against the texts), 4 (references within each
   document and to the registries) and 5 (the per-document tables' pandera schemas);
4. the candidate warnings (``lints.CANDIDATE_CODES``), which read one document at a time.

It returns plain records: the shard's tables and its problems. ``runner.run`` calls it in
this process or in a process pool, alike; what concerns the corpus as a whole (the
registries, ids across documents, the documents table) is checked afterwards
(``validate.check_levels``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..defaults import ARROW_BATCH_DOCS, MAX_JSON_BYTES
from ..diagnostics.problems import Problem, errors
from ..model.labels import Labels
from ..model.layers import DOCUMENT, ENTITY, XDOC_EVENT
from ..model.schemas import Schemas
from ..reading.annotations import (
    Registries,
    Tables,
    flatten,
    load_registries,
    metadata_only,
    only,
    read_document,
)
from ..reading.cache import Cache, NewEntries, document_key, stat_rows, stored_warning
from ..reading.corpus import corpus_files, documents_table, read_documents
from ..reading.files import gc_paused, read_bytes, stat_key
from ..reading.project import Project
from .context import Context
from .level3_spans import check_spans
from .level4_references import check_references, check_time_values
from .level5_tables import check_tables
from .lints import LintPart, candidates


@dataclass(frozen=True)
class Shard:
    """Some documents of one project, in id order, and what to do with them (picklable: it goes to workers)."""

    root: str
    embedded: bool
    corpus: tuple[str, ...]  # documents whose corpus pair exists
    files: tuple[tuple[str, str], ...]  # (document id, annotation file path), for documents in or out of corpus/
    drifted: frozenset[str] = frozenset()  # texts that are not what the seeds make: no span problems, no warnings
    cache: str | None = None  # the cache to take unchanged documents from (``reading.cache.cache_path``)
    registries: str = ""  # a digest of the registries: a document's cached result holds while they are unchanged
    lints: bool = True  # search the candidate warnings
    cached: tuple[tuple[str, str], ...] = ()  # (document, key): unchanged files (the stat index says), not read
    keep_tables: bool = True  # the caller keeps the tables; else only the documents' metadata come back (a
    # worker's result crosses a pipe: sending a shard's texts and annotations cost ~0.1 s of both processes)
    lint_spool: str | None = None  # a folder: the shard's part of the corpus-level warnings is spooled there
    # (``lints.LintPart``), for a caller that does not keep the tables
    cache_spool: str | None = None  # a folder: the shard's new cache entries are spooled there (``fresh``)


@dataclass
class ShardResult:
    """What a shard's documents gave: their tables, their problems (levels 1-3), and what the cache
    keeps (the documents read now that passed levels 1-3, with their keys and entries; the keys of cached
    ones)."""

    tables: Tables
    problems: list[Problem]
    failed: set[str]  # annotation files that failed levels 1-2
    fresh: NewEntries | None  # the documents read now that passed levels 1-3, with their keys and cache entries
    # (spooled to ``Shard.cache_spool``); None without a cache
    kept: dict[str, str]  # the documents taken from the cache, with their keys
    warnings: dict[str, list[Problem]] | None = None  # candidate warnings by document (None: not searched)
    searched: set[str] = field(default_factory=set)  # the documents whose candidate warnings are known now
    extra: dict = field(default_factory=dict)  # what a caller's function adds (the build's ner rows)
    stamps: pa.Table | None = None  # the documents read now that the cache has (``cache.stat_rows``), for the
    # stat index
    lint: LintPart | None = None  # what the corpus-level warnings read of the shard (``Shard.lint_spool``)


_MEMO: dict[tuple, tuple[Labels, Schemas]] = {}
_REGISTRIES: dict[tuple, Registries] = {}


def _stamp(paths) -> tuple:
    """What says a file is unchanged: its name, modification time, size and inode (as git's index)."""
    out = []
    for path in paths:
        try:
            out.append((str(path), *stat_key(os.stat(path))))
        except OSError:
            out.append((str(path),))
    return tuple(out)


def context(root: str, embedded: bool) -> Context:
    """The checks' context in this process; labels and schemas are read once per process while
    their files are unchanged (a worker checks many shards), each shard gets its own locator."""
    project = Project(Path(root), embedded=embedded)
    key = (root, _stamp(sorted(project.schema.glob("*.json"))))
    if key not in _MEMO:
        _MEMO.clear()
        _MEMO[key] = (Labels(project.schema / "labels.json"), Schemas(project.schema))
    labels, schemas = _MEMO[key]
    return Context(project, labels, schemas)


def registries(ctx: Context) -> Registries:
    """The registries, read once per process while their files are unchanged (the first process
    reports their problems; a shard only needs their content)."""
    project = ctx.project
    key = (str(project.root), _stamp([project.entities, project.xdoc_events, project.layers, project.allow]))
    if key not in _REGISTRIES:
        _REGISTRIES.clear()
        _REGISTRIES[key] = load_registries(project, ctx.schemas, ctx.locator)
    return _REGISTRIES[key]


def check_document_levels(ctx: Context, tables: Tables, checked: set[str], have: Registries) -> list[Problem]:
    """Levels 3-5 of the documents of a shard, in this order (levels 1-2 ran while reading them).
    ``checked``: the documents read now (cached ones passed every level with these very files and
    registries)."""
    if not checked:
        return []
    t = only(tables, checked) if checked != _ids(tables) else tables
    problems = check_spans(ctx, t)                                                                 # 3 spans
    problems += check_references(ctx, t, have.entities is not None, have.xdoc_events is not None)  # 4 references
    problems += check_time_values(ctx, t)
    failed = {_document_of(p) for p in errors(problems)}
    clean = only(t, _ids(t) - failed) if failed else t
    problems += check_tables(ctx, clean, corpus=False)                                             # 5 tables
    return problems


def _ids(tables: Tables) -> set[str]:
    return set(tables.documents.column("id").to_pylist())


def check_shard(shard: Shard) -> ShardResult:
    """Levels 1-5 and the candidate warnings of the shard's documents (see the module's docstring)."""
    ctx = context(shard.root, shard.embedded)
    project, schemas, locator = ctx.project, ctx.schemas, ctx.locator
    store = Cache.open(Path(shard.cache)) if shard.cache is not None else None
    unread = {d: k for d, k in shard.cached if k in store} if store is not None else {}  # (not read at all)
    stamps: dict | None = {} if store is not None else None
    with gc_paused():  # parsed JSON makes no cycles
        docs, problems = read_documents(project, schemas, locator,                             # 1 levels 1-2
                                        [d for d in shard.corpus if d not in unread], stamps)
        read = {d.id for d in docs}
        records, keys, failed, converted, record_ids = [], [], set(), [], []
        cached: dict[str, str] = dict(unread)
        folder, prefix = str(project.corpus), project.rel(project.documents)
        paths = dict(shard.files)
        for stem, path in shard.files:
            if stem in unread:
                continue
            raw, key = None, None
            if store is not None and stem in read:
                raw, _ = read_bytes(path, stem, MAX_JSON_BYTES, stamps)  # (a file that fails is explained below)
                if raw is not None:
                    key = document_key([stamps[path][4], *(stamps[f][4] for f in corpus_files(folder, stem))],
                                       shard.registries)
                    if key in store:
                        cached[stem] = key
                        continue
            data, found = read_document(project, schemas, locator, stem, path, raw, prefix)
            problems += found
            if data is None:
                failed.add(stem)
                continue
            records.append(data)
            keys.append(key)
            record_ids.append(stem)
            if len(records) == ARROW_BATCH_DOCS:
                converted.append(pa.array(records, type=DOCUMENT))
                records.clear()
        # to Arrow a few documents at a time, the parsed JSON dropped as it goes: the memory of the next
        # ones is the same (few page faults), and the collector, once on again, has none of it to walk
        converted.append(pa.array(records, type=DOCUMENT))
        del records
    fresh = pa.concat_arrays(converted) if len(converted) > 1 else converted[0]
    read_rows = documents_table(docs)
    kept = store.gather(list(cached.values())) if cached else None  # (``unread`` first: ``cached`` began as it)
    documents = _by_id(pa.concat_tables([read_rows, kept.documents.slice(0, len(unread))]) if unread else read_rows,
                       "id")
    everything = _by_id(pa.concat_arrays([fresh, *kept.records.chunks]), "document") if kept is not None else fresh
    have = registries(ctx)
    tables = replace(flatten(everything, documents),                                              # 2 tables
                     entities=pa.Table.from_pylist(have.entities or [], schema=ENTITY),
                     xdoc_events=pa.Table.from_pylist(have.xdoc_events or [], schema=XDOC_EVENT))
    read_now = set(record_ids)
    found = check_document_levels(ctx, tables, read_now, have)                                    # 3-5
    problems += [p for p in found if not (p.code.startswith("T") and _document_of(p) in shard.drifted)]
    # (a drifted text gives no span problems: its offsets are checked against the right text once fixed)
    ids = read | set(unread)
    warnings, searched = None, set()
    if shard.lints:                                                                              # 4 candidates
        skip = failed | shard.drifted
        search = ids - skip - set(cached)
        warnings = {}
        for p in candidates(ctx, only(tables, search)) if search else []:
            warnings.setdefault(_document_of(p), []).append(p)
        if cached:
            for stem, known in zip(cached, kept.candidates.to_pylist()):
                if known is None:  # never searched: search it now
                    for p in candidates(ctx, only(tables, {stem})):
                        warnings.setdefault(stem, []).append(p)
                else:
                    warnings[stem] = [Problem(**w) for w in known]
        for stem in skip:
            warnings.pop(stem, None)
        searched = ids - skip
    passed = read - {_document_of(p) for p in errors(found)}
    rows = [i for i, (d, k) in enumerate(zip(record_ids, keys)) if k is not None and d in passed]
    new, indexed = None, None
    if store is not None:
        position = {d: i for i, d in enumerate(read_rows.column("id").to_pylist())}
        documents = [record_ids[i] for i in rows]
        new = NewEntries.of(documents, [keys[i] for i in rows], fresh.take(pa.array(rows, pa.int64())),
                            read_rows.take(pa.array([position[d] for d in documents], pa.int64())),
                            [[stored_warning(p) for p in warnings.get(d, [])] if d in searched else None
                             for d in documents], shard.cache_spool)
        # the stat index's rows: the documents read now whose key the cache has (the new ones, and the
        # ones whose files were only touched), with their files' stamps
        indexed = stat_rows([(d, k, [stamps[p] for p in (paths[d], *corpus_files(folder, d))])
                             for d, k in sorted([*zip(new.documents, new.keys),
                                                 *((d, k) for d, k in cached.items() if d not in unread)])],
                            shard.registries)
    part = LintPart.of(tables, shard.lint_spool) if shard.lint_spool is not None else None
    return ShardResult(tables if shard.keep_tables else metadata_only(tables), problems, failed, new,
                       cached, warnings, searched, stamps=indexed, lint=part)


def _by_id(data, column: str):
    """A table, or a struct array, in the order of its ``column`` (the documents' ids), in one piece as a
    take makes it (the release's sizes are counted by chunk). Without a copy if it is one piece in that
    order already (a shard's files are read in id order: a take copied every record, 10-20 ms of a
    shard of 1,000 synthetic documents)."""
    ids = data.column(column) if isinstance(data, pa.Table) else data.field(column)
    order = pc.sort_indices(ids)
    if np.array_equal(order.to_numpy(), np.arange(len(order))):
        return data.combine_chunks() if isinstance(data, pa.Table) and data.column(0).num_chunks > 1 else data
    return data.take(order)


def _document_of(problem: Problem) -> str:
    """The document a per-document warning is about: it is in the document's text or annotation file."""
    return problem.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
