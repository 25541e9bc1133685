"""Stage 4, validation: every check, in levels, every problem reported at once.

Levels 1-3 and the per-document warnings run per document, on shards of documents, in
this process or in a process pool (``shards.check_shard`` through ``runner.run``); levels
4-5 run over the whole corpus at once on the merged Arrow tables: references with polars
joins, tables with pandera. Only the rows that fail are turned back into file positions.
The corpus-level warnings read the shards again, one at a time (``lints.lint``).
"""

from __future__ import annotations

import hashlib
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ..defaults import SHARD_DOCS, STAT_DOCS, STAT_PARALLEL_FROM
from ..diagnostics.problems import Problem, display, errors, sort_problems
from ..model.labels import Labels
from ..model.layers import LAYERS
from ..model.schemas import Schemas
from ..reading.annotations import (
    Registries,
    Tables,
    flatten,
    interleave,
    list_documents,
    load_registries,
    merge,
    metadata_only,
    only,
)
from ..reading.cache import (
    Cache,
    NewEntries,
    StatIndex,
    cache_path,
    index_path,
    lint_state_path,
    load_lint_state,
    save_lint_state,
    stat_documents,
    stored_warning,
)
from ..reading.corpus import list_corpus
from ..reading.files import gc_tuned, listing
from ..reading.ingest import check_drift, check_seeds
from ..reading.project import Project
from . import runner
from .context import Context, close_match
from .level4_references import check_registries
from .level5_tables import check_tables
from .lints import BareNames, LintPart, apply_allow_list, candidates, lint
from .shards import Shard, ShardResult, check_shard


@dataclass
class Result:
    problems: list[Problem]
    tables: Tables
    labels: Labels
    project: Project

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_levels(ctx: Context, tables: Tables, registries: Registries, earlier: list[Problem]) -> list[Problem]:
    """The levels in their order. Each document went through levels 1-5 on its shard
    (``shards.check_shard``: files, schema, spans, references, its own tables); what concerns
    the corpus as a whole runs here (``earlier``: the problems found so far): level 4 across
    documents and registries (ids regardless of case), then, if there is no error yet, level 5
    on the corpus tables (documents, registries)."""
    problems = check_registries(ctx, tables)                                               # 4 across documents
    if not errors(earlier + problems):
        problems += check_tables(ctx, tables, corpus=True)                                 # 5 corpus tables
    return problems


@gc_tuned()
def validate(project: Project, paths: list[str] | None = None, cache: bool = False, lints: bool = True,
             drift: bool = True, jobs: int | None = None, shard_function=check_shard, consume=None,
             keep_tables: bool = True, stats: runner.Begun | None = None) -> Result:
    """Validate the whole corpus; with ``paths``, report only problems in those files or folders.

    1. sources: seeds against their checksums, corpus/ against what the seeds regenerate (D);
    2. the registries (levels 1-2) and the folder listings (level 1: stray and unpaired files);
    3. every shard of documents through ``shard_function`` (``check_shard``: levels 1-5 of each
       document and its candidate warnings), in this process or in ``jobs`` workers (None:
       every core, for a corpus of ``PARALLEL_FROM`` documents or more);
    4. ``check_levels``: what concerns the corpus as a whole (levels 4-5);
    5. the corpus-level warnings (W) and the allow-list, then the cache and the ``paths`` filter.

    With ``cache``, documents whose files are unchanged since they last passed levels 1-3
    are not checked at those levels again (see ``reading/cache.py``); the result is the same.
    Without ``lints`` only the checks that can fail run: the warnings and the allow-list are
    left out, as ``build`` needs only to know there are no errors. Without ``drift``, corpus/
    is not compared with what today's normaliser makes of seeds/: a past revision's corpus is
    what that revision's normaliser wrote.

    ``shard_function`` may do more per shard than ``check_shard`` (the build's also makes the
    release rows); ``consume`` is called with each shard's result as it comes, in document
    order. Without ``keep_tables``, the result's tables hold the registries and the documents'
    metadata only: what this process holds does not grow with the documents' annotations and
    texts. The corpus-level warnings then read each shard's texts and names from Arrow IPC files
    in a temporary folder (``lints.LintPart``), in a second pass, one shard at a time.

    ``stats``: the stats of the documents' files, begun by the caller before it imported the checks
    (``runner.begin`` of ``cache.stat_folder``: a ``peacetalks validate`` takes them meanwhile); the
    documents they miss are taken as usual.
    """
    labels = Labels(project.schema / "labels.json")
    ctx = Context(project, labels, Schemas(project.schema))
    store = Cache.open(cache_path(project.cache_dir, project.schema)) if cache else None
    index = StatIndex(index_path(project.cache_dir, project.root)) if cache else None
    digest = registry_digest(project) if store is not None else ""
    plan = _plan(ctx, store, index, digest, lints, jobs, stats)
    if plan.jobs > 1:
        runner.start_pool()  # (its imports overlap with the checks of the sources)
    sources = check_drift(project) if drift else []                                          # 1
    drifted = frozenset(Path(p.path).stem for p in sources if p.code == "D001")
    registries = load_registries(project, ctx.schemas, ctx.locator)                          # 2
    problems = check_seeds(project) + sources + registries.problems + plan.problems
    # without the tables kept, the corpus-level warnings read the texts a shard at a time, spooled meanwhile;
    # the cache's new entries are spooled too, and written from there as one segment
    stream = lints and not keep_tables
    with tempfile.TemporaryDirectory(prefix="peacetalks-") if stream or store is not None else nullcontext() as spooled:
        shards = [replace(s, drifted=drifted & set(s.corpus), registries=digest, keep_tables=keep_tables,
                          lint_spool=spooled if stream else None, cache_spool=spooled if store is not None else None)
                  for s in plan.shards]
        kept = _Kept(store is not None, plan, digest)
        unchanged = None
        if store is not None and consume is None and shard_function is check_shard and plan.unread:
            # only the documents to read go through their shards; the unchanged ones come from the cache at once
            unchanged, unchanged_part = _unchanged(ctx, store, plan.unread, drifted, lints, kept, keep_tables)
            shards = [replace(s, corpus=tuple(d for d in s.corpus if d not in plan.unread),
                              files=tuple(f for f in s.files if f[0] not in plan.unread), cached=()) for s in shards]
            shards = [s for s in shards if s.corpus or s.files]
        for result in runner.run(shard_function, shards, plan.jobs):                             # 3
            kept.add(result)
            if consume is not None:
                consume(result)
        problems += kept.problems
        tables = kept.tables(registries)
        if unchanged is not None:
            if stream:  # (the unchanged documents' records are the cache's, mapped: a part of the warnings as they are)
                kept.lint_parts.insert(0, unchanged_part)
                unchanged = metadata_only(unchanged)
            tables = interleave(replace(unchanged, entities=tables.entities, xdoc_events=tables.xdoc_events), tables)
        problems += check_levels(ctx, tables, registries, problems)                             # 4
        if lints:                                                                              # 5
            state = lint_state_path(store.base, project.root) if store is not None else None
            previous = _load_names(state)
            parts = kept.lint_parts if stream else [LintPart.of(tables)]
            found, names = lint(ctx, tables.entities, parts, skip=kept.failed | drifted, previous=previous,
                                keys=kept.doc_keys, earlier=partial(_earlier, store) if store is not None else None)
            if state is not None and not (previous is not None and previous.same(names)):
                _save_names(state, names)
            problems = apply_allow_list(ctx, problems + found + kept.warnings, registries.allow,
                                        skip=kept.failed | drifted)
        if store is not None:
            kept.update_cache(store, index)
        if paths:
            wanted = [display(w) for w in _with_document_files(project, [project.rel(Path(p)).rstrip("/")
                                                                           for p in paths])]  # (as problems show them)
            problems = [p for p in problems if any(p.path == w or p.path.startswith(w + "/") for w in wanted)]
        return Result(sort_problems(problems), tables, labels, project)


def _unchanged(ctx: Context, store: Cache, unread: dict[str, str], drifted: frozenset[str], lints: bool,
               kept: "_Kept", keep_tables: bool = True) -> tuple[Tables, LintPart | None]:
    """The tables of the documents the cache holds unchanged (``unread``: document -> key), gathered and
    flattened at once, in document order; their candidate warnings go to ``kept`` (searched now
    where the cache never searched them), and their keys are kept in the cache. Where the tables are
    not kept, only the documents' rows are (metadata and texts), and the corpus-level warnings read
    the cached records as they are (``LintPart.of_records``, returned too: None without the
    warnings), flattening only the few documents a search reads."""
    documents = sorted(unread)
    keys = [unread[d] for d in documents]
    entries = store.gather(keys)
    records = entries.records
    tables = flatten(records, entries.documents, LAYERS if keep_tables else ())
    part = LintPart.of_records(records, tables) if lints and not keep_tables else None
    kept.kept_keys += keys
    kept.doc_keys |= unread
    if lints:
        known = entries.candidates  # (null where never searched; most lists are empty)
        never = np.flatnonzero(pc.is_null(known).to_numpy(zero_copy_only=False))
        some = np.flatnonzero(pc.fill_null(pc.greater(pc.list_value_length(known), 0), False).to_numpy(
            zero_copy_only=False))
        for i, found in zip(some.tolist(), known.take(pa.array(some, pa.int64())).to_pylist()):
            if documents[i] not in drifted:
                kept.warnings += [Problem(**w) for w in found]
        search = {documents[i] for i in never.tolist()} - drifted
        if search:
            found: dict[str, list[Problem]] = {d: [] for d in search}
            searched = [unread[d] for d in sorted(search)]
            again = None if keep_tables else store.gather(searched)
            whole = tables if again is None else flatten(again.records, again.documents)
            for p in candidates(ctx, only(whole, search)):
                found[Path(p.path).stem].append(p)
            for document, problems in found.items():
                kept.warnings += problems
                kept.candidates[unread[document]] = [stored_warning(p) for p in problems]
    return tables, part


def _earlier(store: Cache, keys: list[str]) -> LintPart | None:
    """The documents of these keys as the cache keeps them (their texts and names: a part of the corpus-level
    warnings, for ``lints._Names.since``), or None if it no longer keeps them all."""
    if not all(key in store for key in keys):
        return None
    entries = store.gather(keys)
    return LintPart.of_records(entries.records, flatten(entries.records, entries.documents, ()))


def _load_names(path: Path | None) -> BareNames | None:
    """What W001/W007 found in the last cached run (None: nothing kept, search every document)."""
    kept = load_lint_state(path) if path is not None else None
    if kept is None:
        return None
    names, counts, found = kept
    return BareNames(pl.from_arrow(names), pl.from_arrow(found), pl.from_arrow(counts))


def _save_names(path: Path, state: BareNames) -> None:
    save_lint_state(path, state.names.to_arrow(), state.counts.to_arrow(), state.found.to_arrow())


def registry_digest(project: Project) -> str:
    """What a document's levels 4-5 depend on besides its own files: the registries' bytes."""
    h = hashlib.sha256()
    for path in (project.entities, project.xdoc_events):
        try:
            h.update(path.read_bytes())
        except OSError:
            pass
        h.update(b"\0")
    return h.hexdigest()


class _Kept:
    """What this process keeps of the shards' results as they come: their problems, their tables
    (or only the documents' metadata), and what the cache will remember (the new entries stay in the
    files the shards spooled them to until they are written into the cache)."""

    def __init__(self, cache: bool, plan: "_Plan", registries: str) -> None:
        self.keep_cache = cache
        self.index_rows, self.index_keys = plan.index_rows, plan.index_keys  # (of the documents not read)
        self.registries = registries
        self.stamps: list[pa.Table] = []  # the stat index's entries of the documents read
        self.entries: list[NewEntries] = []  # the new entries of the cache, a shard's each
        self.doc_keys: dict[str, str] = {}  # each document's key, where it has one (it passed and is cached)
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.failed: set[str] = set()
        self.parts: list[Tables] = []
        self.kept_keys: list[str] = []
        self.candidates: dict[str, list[dict]] = {}  # the candidate warnings of kept entries, searched now
        self.lint_parts: list[LintPart] = []  # what the corpus-level warnings read, where the tables are not kept

    def add(self, r: ShardResult) -> None:
        self.problems += r.problems
        self.failed |= r.failed
        self.warnings += [p for found in (r.warnings or {}).values() for p in found]
        self.parts.append(r.tables)  # (only the metadata, unless kept: the shard's ``keep_tables``)
        if r.lint is not None:
            self.lint_parts.append(r.lint)
        if self.keep_cache:
            self.kept_keys += r.kept.values()
            self.doc_keys |= r.kept
            if r.fresh is not None:
                self.doc_keys |= dict(zip(r.fresh.documents, r.fresh.keys))
                self.entries.append(r.fresh)
            if r.stamps is not None:
                self.stamps.append(r.stamps)
            if r.warnings is not None:
                self.candidates |= {key: [stored_warning(p) for p in r.warnings.get(doc, [])]
                                    for doc, key in r.kept.items() if doc in r.searched}

    def tables(self, registries: Registries) -> Tables:
        return merge(self.parts, registries.entities, registries.xdoc_events)

    def update_cache(self, store: Cache, index: StatIndex) -> None:
        """Remember the documents that passed levels 1-3 now, and the unchanged ones; forget the ones that
        changed or left. Every document's candidate warnings are stored with it where they were searched;
        the stat index, each cached document's key with its files' stats and digests."""
        store.save(self.kept_keys, self.entries, self.candidates)
        index.save(self.index_rows, self.index_keys, self.registries, self.stamps)


@dataclass
class _Plan:
    shards: list[Shard]
    problems: list[Problem]  # of the folder listings
    jobs: int
    index_rows: np.ndarray  # the stat index's rows of the documents that will not be read
    index_keys: pa.Array  # their keys
    unread: dict[str, str]  # the documents the cache holds unchanged: document -> key


def _plan(ctx: Context, store: Cache | None, index: StatIndex | None, registries: str, lints: bool,
          jobs: int | None, stats: runner.Begun | None = None) -> _Plan:
    """The folder listings (level 1 of the folders) and the shards of documents, in id order: each
    corpus document with its annotation file, and the annotation files of documents not in corpus/.
    With the cache, a document whose three files the stat index knows unchanged, and whose key the
    cache has, is taken from the cache without being read; the processes are counted for the
    documents left to read."""
    project = ctx.project
    lister = index.listing if index is not None else listing
    corpus, problems = list_corpus(project, lister)
    files, found = list_documents(project, ctx.schemas, lister)
    problems += found
    known = set(corpus)
    for stem in sorted(files.keys() - known):
        problems.append(ctx.at(stem, "/document", "R002", f"document {stem!r} is not in corpus/",
                               close_match(stem, known, "document")))
    bare = known - files.keys()
    for stem in sorted(bare):
        problems.append(Problem(project.rel(project.corpus / f"{stem}.txt"), 1, 1, "W006",
                                "document has no annotation file",
                                f"annotate it in annotations/documents/{stem}.json"))
    paired = len(files) == len(corpus) and not bare  # (as usual: every corpus document has its file, and no other)
    ids = corpus if paired else sorted(known | files.keys())
    unread: dict[str, str] = {}
    rows, keys = np.zeros(0, np.int64), pa.array([], pa.string())
    if store is not None and index is not None and len(index):
        both = corpus if paired else [stem for stem in corpus if stem in files]  # (documents with three files)
        same, at = index.unchanged(pa.array(both, pa.string()), _stats(project, both, jobs, stats))
        whole = np.flatnonzero(same)  # documents whose three files are unchanged
        keys = index.keys(at[whole], registries)
        held = np.fromiter((key in store for key in keys.to_pylist()), bool, len(keys))
        taken = whole[held]
        rows, keys = at[taken], keys.filter(pa.array(held))
        unread = dict(zip((both[i] for i in taken.tolist()), keys.to_pylist()))
    shards = []
    for lo in range(0, len(ids), SHARD_DOCS):
        part = ids[lo:lo + SHARD_DOCS]
        shards.append(Shard(str(project.root), project.embedded,
                            tuple(part) if paired else tuple(d for d in part if d in known),
                            tuple((d, files[d]) for d in part) if paired else tuple((d, files[d]) for d in part
                                                                                    if d in files),
                            cache=str(store.base) if store is not None else None, lints=lints,
                            cached=tuple((d, unread[d]) for d in part if d in unread)))
    to_read = len(corpus) - len(unread)
    return _Plan(shards, problems, runner.workers(jobs, len(shards), to_read), rows, keys, unread)


def _stats(project: Project, documents: list[str], jobs: int | None, begun: runner.Begun | None = None) -> np.ndarray:
    """The stats of these documents' files (``cache.stat_documents``), ``STAT_DOCS`` documents a shard,
    over every core (``jobs``) where there are ``STAT_PARALLEL_FROM`` documents or more and this process
    can fork its workers (a fork server's start would cost more than the stats); never more workers
    than shards. With ``begun`` (``cache.stat_folder``, begun earlier), only the documents it missed."""
    taken = begun.result() if begun is not None else None
    if taken is not None:
        stems, rows = taken
        at = pc.index_in(pa.array(documents, pa.string()), value_set=pa.array(stems, pa.string()))
        found = pc.is_valid(at).to_numpy(zero_copy_only=False)
        out = np.empty((len(documents), 12), np.int64)
        out[found] = rows[at.drop_null().to_numpy()]
        missing = np.flatnonzero(~found)
        if len(missing):
            out[missing] = _stats(project, [documents[i] for i in missing.tolist()], jobs)
        return out
    folders = (str(project.documents), str(project.corpus))
    shards = [(*folders, documents[lo:lo + STAT_DOCS]) for lo in range(0, len(documents), STAT_DOCS)]
    n = runner.default_jobs() if jobs is None and len(documents) >= STAT_PARALLEL_FROM else jobs or 1
    n = max(1, min(n, len(shards)))
    return np.concatenate([np.empty((0, 12), np.int64),
                           *runner.run(stat_documents, shards, n, preload=(), fork_only=True)])


def _with_document_files(project: Project, wanted: list[str]) -> list[str]:
    """Asking for any file of a document asks for all of them: its annotation file, its text (where
    candidate warnings are filed) and its metadata."""
    return wanted + [f for w in wanted if (document := project.document_of(w)) is not None
                     for f in project.document_files(document)]
