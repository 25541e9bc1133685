"""Stage 4, validation: every check, in levels, every problem reported at once.

Levels 1-3 and the per-document warnings run per document, on shards of documents, in
this process or in a process pool (``shards.check_shard`` through ``runner.run``); levels
4-5 run over the whole corpus at once on the merged Arrow tables: references with polars
joins, tables with pandera. Only the rows that fail are turned back into file positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from ..defaults import SHARD_DOCS
from ..diagnostics.problems import Problem, errors, sort_problems
from ..model.labels import Labels
from ..model.layers import DOCUMENT
from ..model.schemas import Schemas
from ..reading.annotations import (
    Registries,
    Tables,
    list_documents,
    load_registries,
    merge,
)
from ..reading.cache import Cache, cache_path
from ..reading.corpus import list_corpus
from ..reading.ingest import check_drift, check_seeds
from ..reading.project import Project
from . import runner
from .context import Context, close_match
from .level4_references import check_registries
from .level5_tables import check_tables
from .lints import apply_allow_list, lint
from .shards import Shard, ShardResult, check_shard


@dataclass
class Result:
    problems: list[Problem]
    tables: Tables
    labels: Labels
    project: Project
    extras: list[dict] = field(default_factory=list)  # what the shard function added, shard by shard

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_levels(ctx: Context, shards: list[ShardResult], registries: Registries,
                 listing: list[Problem]) -> tuple[Tables, list[Problem]]:
    """The levels in their order. Each document went through levels 1-5 on its shard
    (``shards.check_shard``: files, schema, spans, references, its tables); what concerns the
    corpus as a whole runs here on the merged tables: level 4 across documents and registries
    (ids regardless of case), then level 5 on the corpus tables (documents, registries).
    Returns the corpus tables and the problems."""
    problems = [p for s in shards for p in s.problems]                                     # 1-5 per document
    tables = merge([s.tables for s in shards], registries.entities, registries.xdoc_events)
    corpus = check_registries(ctx, tables)                                                 # 4 across documents
    if not errors(corpus + registries.problems + listing):
        corpus += check_tables(ctx, tables, corpus=True)                                   # 5 corpus tables
    return tables, problems + corpus


def validate(project: Project, paths: list[str] | None = None, cache: bool = False, lints: bool = True,
             drift: bool = True, jobs: int | None = None, shard_function=check_shard) -> Result:
    """Validate the whole corpus; with ``paths``, report only problems in those files or folders.

    1. sources: seeds against their checksums, corpus/ against what the seeds regenerate (D);
    2. the registries (levels 1-2) and the folder listings (level 1: stray and unpaired files);
    3. every shard of documents through ``shard_function`` (``check_shard``: levels 1-5 of each
       document and its candidate warnings), in this process or in ``jobs`` workers (None: every core, for a
       corpus of ``PARALLEL_FROM`` documents or more);
    4. ``check_levels``: what concerns the corpus as a whole (levels 4-5), on the merged tables;
    5. the corpus-level warnings (W) and the allow-list, then the cache and the ``paths`` filter.

    With ``cache``, documents whose files are unchanged since they last passed levels 1-3
    are not checked at those levels again (see ``reading/cache.py``); the result is the same.
    Without ``lints`` only the checks that can fail run: the warnings and the allow-list are
    left out, as ``build`` needs only to know there are no errors. Without ``drift``, corpus/
    is not compared with what today's normaliser makes of seeds/: a past revision's corpus is
    what that revision's normaliser wrote. ``shard_function`` may do more per shard than
    ``check_shard`` (the build's also tokenises), as long as it returns its result.
    """
    labels = Labels(project.schema / "labels.json")
    ctx = Context(project, labels, Schemas(project.schema))
    store = Cache(cache_path(project.cache_dir, project.schema)) if cache else None
    plan = _plan(ctx, store, lints, jobs)
    if plan.jobs > 1:
        runner.start_pool()  # (its imports overlap with the checks of the sources)
    sources = check_drift(project) if drift else []                                          # 1
    drifted = frozenset(Path(p.path).stem for p in sources if p.code == "D001")
    registries = load_registries(project, ctx.schemas, ctx.locator)                          # 2
    problems = check_seeds(project) + sources + registries.problems + plan.problems
    shards = [replace(s, drifted=drifted & set(s.corpus)) for s in plan.shards]
    results = list(runner.run(shard_function, shards, plan.jobs))                            # 3
    tables, found = check_levels(ctx, results, registries, plan.problems)                   # 4
    problems += found
    failed = set().union(*(r.failed for r in results)) if results else set()
    if lints:                                                                              # 5
        warnings = lint(ctx, tables, skip=failed | drifted)
        warnings += [p for r in results for found in (r.warnings or {}).values() for p in found]
        problems = apply_allow_list(ctx, problems + warnings, registries.allow)
    if store is not None:
        _update_cache(store, results)
    if paths:
        wanted = _with_document_files(project, [project.rel(Path(p)).rstrip("/") for p in paths])
        problems = [p for p in problems if any(p.path == w or p.path.startswith(w + "/") for w in wanted)]
    return Result(sort_problems(problems), tables, labels, project, [r.extra for r in results])


@dataclass
class _Plan:
    shards: list[Shard]
    problems: list[Problem]  # of the folder listings
    jobs: int


def _plan(ctx: Context, store: Cache | None, lints: bool, jobs: int | None) -> _Plan:
    """The folder listings (level 1 of the folders) and the shards of documents, in id order: each
    corpus document with its annotation file, and the annotation files of documents not in corpus/."""
    project = ctx.project
    corpus, problems = list_corpus(project)
    files, found = list_documents(project, ctx.schemas)
    problems += found
    known = set(corpus)
    for stem in files:
        if stem not in known:
            problems.append(ctx.at(stem, "/document", "R002", f"document {stem!r} is not in corpus/",
                                   close_match(stem, known, "document")))
    for stem in corpus:
        if stem not in files:
            problems.append(Problem(project.rel(project.corpus / f"{stem}.txt"), 1, 1, "W006",
                                    "document has no annotation file",
                                    f"annotate it in annotations/documents/{stem}.json"))
    ids = sorted(known | set(files))
    shards = []
    for lo in range(0, len(ids), SHARD_DOCS):
        part = ids[lo:lo + SHARD_DOCS]
        shards.append(Shard(str(project.root), project.embedded, tuple(d for d in part if d in known),
                            tuple((d, files[d]) for d in part if d in files),
                            cache=str(store.path) if store is not None else None, lints=lints))
    return _Plan(shards, problems, runner.workers(jobs, len(shards), len(corpus)))
def _with_document_files(project: Project, wanted: list[str]) -> list[str]:
    """Asking for any file of a document asks for all of them: its annotation file, its text (where
    candidate warnings are filed) and its metadata."""
    files = {project.rel(project.documents): ".json", project.rel(project.corpus): (".txt", ".json")}
    out = list(wanted)
    for w in wanted:
        folder, _, name = w.rpartition("/")
        if folder in files and name.endswith(files[folder]):
            stem = name.rsplit(".", 1)[0]
            out += [project.rel(project.documents / f"{stem}.json"), project.rel(project.corpus / f"{stem}.txt"),
                    project.rel(project.corpus / f"{stem}.json")]
    return out


def _update_cache(store: Cache, results: list[ShardResult]) -> None:
    """Remember the documents that passed levels 1-3 now, and the unchanged ones; forget the ones that
    changed or left. Every document's candidate warnings are stored with it where they were searched."""
    keep = [k for r in results for k in r.kept.values()]
    new_keys = [k for r in results for k in r.fresh_keys]
    fresh = [r.fresh for r in results if len(r.fresh)]
    by_key = {}
    for r in results:
        if r.warnings is None:
            continue
        keys = r.kept | dict(zip(r.fresh.field("document").to_pylist(), r.fresh_keys))
        by_key |= {key: [_stored(p) for p in r.warnings.get(doc, [])] for doc, key in keys.items() if doc in r.searched}
    store.save(keep, new_keys, pa.concat_arrays(fresh) if fresh else pa.array([], DOCUMENT), by_key)


def _stored(p: Problem) -> dict:
    return {"path": p.path, "line": p.line, "column": p.column, "code": p.code, "message": p.message, "hint": p.hint}
