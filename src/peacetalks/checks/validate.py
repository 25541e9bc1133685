"""Stage 4, validation: every check, in levels, every problem reported at once.

Levels 1-2 run per file while reading (``corpus``, ``annotations``); levels 3-5 run
over the whole corpus at once on the flattened Arrow tables: spans on arrays of code
points with numpy, references with polars joins, tables with pandera. Only the rows
that fail are turned back into file positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa

from ..diagnostics.problems import Problem, errors, sort_problems
from ..model.labels import Labels
from ..model.layers import DOCUMENT
from ..model.schemas import Schemas
from ..reading.annotations import Tables, flatten, load_annotations, only
from ..reading.cache import Cache, text_digest
from ..reading.corpus import documents_table, load_corpus
from ..reading.files import gc_paused
from ..reading.ingest import check_drift, check_seeds
from ..reading.project import Project
from .context import Context, close_match
from .level3_spans import check_spans
from .level4_references import check_references, check_time_values
from .level5_tables import check_tables
from .lints import CANDIDATE_CODES, apply_allow_list, lint


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


@dataclass
class _Read:
    """What reading found: the corpus documents, the annotation files (levels 1-2 done), the tables."""

    docs: list
    ann: object
    tables: Tables
    problems: list[Problem]

    @property
    def changed(self) -> set[str]:
        """Documents whose annotation files were read now (not taken from the cache)."""
        return {f.document for f in self.ann.files} - {d for d, _ in self.ann.cached}

    @property
    def failed(self) -> set[str]:
        """Documents whose annotation file failed levels 1-2."""
        return self.ann.present - self.changed - {d for d, _ in self.ann.cached}


def check_levels(ctx: Context, read: _Read, drifted: set[str]) -> tuple[list[Problem], list[Problem]]:
    """Levels 3-5 over the flattened corpus, in this order (levels 1-2 ran per file while reading).
    Returns all their problems, and the span problems apart (the cache remembers who passed)."""
    tables = read.tables
    spans = check_spans(ctx, only(tables, read.changed) if read.ann.cached else tables)   # 3 spans
    problems = [p for p in spans if Path(p.path).stem not in drifted]  # (a drifted text: no span hints)
    problems += check_references(ctx, tables, read.ann.entities is not None,             # 4 references
                                 read.ann.xdoc_events is not None)
    problems += check_time_values(ctx, tables)
    if not errors(read.problems + problems):
        problems += check_tables(ctx, tables)                                              # 5 corpus tables
    return problems, spans


def validate(project: Project, paths: list[str] | None = None, cache: bool = False, lints: bool = True,
             helper=None, drift: bool = True) -> Result:
    """Validate the whole corpus; with ``paths``, report only problems in those files or folders.

    1. sources: seeds against their checksums, corpus/ against what the seeds regenerate (D);
    2. reading: every corpus and annotation file through levels 1-2 (F, S), then one table per layer;
    3. ``check_levels``: spans (T), references (R), corpus tables (C);
    4. warnings (W) and the allow-list, then the cache and the ``paths`` filter.

    With ``cache``, documents whose files are unchanged since they last passed levels 1-3
    are not checked at those levels again (see ``reading/cache.py``); the result is the same.
    Without ``lints`` only the checks that can fail run: the warnings and the allow-list are
    left out, as ``build`` needs only to know there are no errors. ``helper`` is the build's
    second process, which reads part of the annotation files. Without ``drift``, corpus/ is
    not compared with what today's normaliser makes of seeds/: a past revision's corpus is
    what that revision's normaliser wrote.
    """
    labels = Labels(project.schema / "labels.json")
    ctx = Context(project, labels, Schemas(project.schema))
    store = Cache(project.cache_dir, project.schema) if cache else None
    sources = check_drift(project) if drift else []                                     # 1
    drifted = {Path(p.path).stem for p in sources if p.code == "D001"}  # their texts are not the seeds' texts
    read = _read(ctx, store, helper)                                                    # 2
    problems = check_seeds(project) + sources + read.problems
    found, spans = check_levels(ctx, read, drifted)                                      # 3
    problems += found
    warnings = _warnings(ctx, read, store, skip=read.failed | drifted) if lints else []   # 4
    if store is not None:
        _update_cache(store, read.ann, spans, {d.id for d in read.docs},
                      _by_document(warnings, project) if lints else None)
    if lints:
        problems = apply_allow_list(ctx, problems + warnings, read.ann.allow)
    if paths:
        wanted = _with_document_files(project, [project.rel(Path(p)).rstrip("/") for p in paths])
        problems = [p for p in problems if any(p.path == w or p.path.startswith(w + "/") for w in wanted)]
    return Result(sort_problems(problems), read.tables, labels, project)


def _read(ctx: Context, store: Cache | None, helper) -> _Read:
    """Corpus and annotation files through levels 1-2 (unchanged ones from the cache), flattened."""
    project = ctx.project
    with gc_paused():
        docs, problems = load_corpus(project, ctx.schemas, ctx.locator)
    digests = ({d.id: text_digest(d.text, orjson.dumps(d.meta, option=orjson.OPT_SORT_KEYS)) for d in docs}
               if store is not None else None)
    with gc_paused():
        ann = load_annotations(project, ctx.schemas, ctx.locator, store, digests, helper)
    problems += ann.problems
    corpus_ids = {d.id for d in docs}
    for f in ann.files:
        if f.document not in corpus_ids:
            problems.append(ctx.at(f.document, "/document", "R002", f"document {f.document!r} is not in corpus/",
                                   close_match(f.document, corpus_ids, "document")))
    for d in docs:
        if d.id not in ann.present:
            problems.append(Problem(project.rel(project.corpus / f"{d.id}.txt"), 1, 1, "W006",
                                    "document has no annotation file",
                                    f"annotate it in annotations/documents/{d.id}.json"))
    cached = [key for _, key in ann.cached]
    chunks = ann.chunks + ([store.records(cached)] if cached else [])
    return _Read(docs, ann, flatten(chunks, documents_table(docs), ann.entities, ann.xdoc_events), problems)


def _warnings(ctx: Context, read: _Read, store: Cache | None, skip: set[str]) -> list[Problem]:
    """Every warning; the candidate warnings of unchanged documents come from the cache. A document
    whose inputs are broken (failed levels 1-2, or a drifted text) gets none: they would mislead."""
    if store is None:
        return lint(ctx, read.tables, skip=skip)
    cached = read.ann.cached
    known = dict(zip((d for d, _ in cached), store.candidates([k for _, k in cached])))
    found = []
    for warnings in known.values():
        found += [Problem(**w) for w in warnings or []]
    search = {d.id for d in read.docs} - {d for d, w in known.items() if w is not None}
    return found + lint(ctx, read.tables, search, skip=skip)


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


def _by_document(problems: list[Problem], project: Project) -> dict[str, list[dict]]:
    """The per-document warnings (``CANDIDATE_CODES``), by document id, as the cache stores them: each
    is in its document's text file or its annotation file."""
    folders = {project.rel(project.corpus) + "/": ".txt", project.rel(project.documents) + "/": ".json"}
    out: dict[str, list[dict]] = {}
    for p in problems:
        if p.code not in CANDIDATE_CODES:
            continue
        for prefix, suffix in folders.items():
            if p.path.startswith(prefix) and p.path.endswith(suffix) and "/" not in p.path[len(prefix):]:
                out.setdefault(p.path[len(prefix):-len(suffix)], []).append(
                    {"path": p.path, "line": p.line, "column": p.column, "code": p.code, "message": p.message,
                     "hint": p.hint})
    return out


def _update_cache(store: Cache, ann, span_problems: list[Problem], corpus_ids: set[str],
                  candidates: dict[str, list[dict]] | None) -> None:
    """Remember the documents that passed levels 1-3 now; forget the ones that changed or left.

    With ``candidates`` (a run with warnings searched them), every document's candidate
    warnings are stored with it, an empty list where none were found."""
    failed = {Path(p.path).stem for p in span_problems}
    fresh = pa.concat_arrays(ann.chunks) if ann.chunks else pa.array([], DOCUMENT)
    rows = [i for i, (doc, key) in enumerate(zip(fresh.field("document").to_pylist(), ann.keys))
            if key is not None and doc in corpus_ids and doc not in failed]
    keep = [key for doc, key in ann.cached if doc in corpus_ids]
    new_keys = [ann.keys[i] for i in rows]
    by_key = None
    if candidates is not None:
        docs_of = dict(ann.cached) | {fresh.field("document")[i].as_py(): ann.keys[i] for i in rows}
        by_key = {key: candidates.get(doc, []) for doc, key in docs_of.items()}
    store.save(keep, new_keys, fresh.take(pa.array(rows, pa.int64())), by_key)
