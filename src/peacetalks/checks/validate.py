"""Stage 4, validation: every check, in levels, every problem reported at once.

Levels 1-2 run per file while reading (``corpus``, ``annotations``); levels 3-5 run
over the whole corpus at once on the flattened Arrow tables: spans on arrays of code
points with numpy, references with polars joins, tables with pandera. Only the rows
that fail are turned back into file positions.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandera.polars as pdr
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import regex

from ..diagnostics.problems import Problem, errors, sort_problems
from ..model.labels import Labels
from ..model.layers import DOCUMENT
from ..model.schemas import Schemas, timex_value
from ..model.tables import table_schemas
from ..reading.annotations import Tables, flatten, load_annotations, only
from ..reading.cache import Cache, text_digest
from ..reading.corpus import documents_table, load_corpus
from ..reading.files import gc_paused
from ..reading.ingest import check_drift, check_seeds
from ..reading.project import Project
from .context import Context
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


def validate(project: Project, paths: list[str] | None = None, cache: bool = False, lints: bool = True,
             helper=None, drift: bool = True) -> Result:
    """Validate the whole corpus; with ``paths``, report only problems in those files or folders.

    With ``cache``, documents whose files are unchanged since they last passed levels 1-3
    are not checked at those levels again (see ``cache.py``); the result is the same.
    Without ``lints`` only the checks that can fail run: the warnings (``lints.py``) and
    the allow-list are left out, as ``build`` needs only to know there are no errors.
    ``helper`` is the build's second process, which reads part of the annotation files.
    Without ``drift``, corpus/ is not compared with what today's normaliser makes of seeds/:
    a past revision's corpus is what that revision's normaliser wrote.
    """
    labels = Labels(project.schema / "labels.json")
    ctx = Context(project, labels, Schemas(project.schema))
    drift = check_drift(project) if drift else []
    drifted = {Path(p.path).stem for p in drift if p.code == "D001"}  # their texts are not the seeds' texts
    problems: list[Problem] = check_seeds(project) + drift

    with gc_paused():
        docs, found = load_corpus(project, ctx.schemas, ctx.locator)
    problems += found
    store = Cache(project.cache_dir, project.schema) if cache else None
    digests = ({d.id: text_digest(d.text, orjson.dumps(d.meta, option=orjson.OPT_SORT_KEYS)) for d in docs}
               if store is not None else None)
    with gc_paused():
        ann = load_annotations(project, ctx.schemas, ctx.locator, store, digests, helper)
    problems += ann.problems
    corpus_ids = {d.id for d in docs}
    for f in ann.files:
        if f.document not in corpus_ids:
            problems.append(ctx.at(f.document, "/document", "R002", f"document {f.document!r} is not in corpus/",
                                   _close(f.document, corpus_ids, "document")))
    annotated = ann.present
    for d in docs:
        if d.id not in annotated:
            problems.append(Problem(project.rel(project.corpus / f"{d.id}.txt"), 1, 1, "W006",
                                    "document has no annotation file",
                                    f"annotate it in annotations/documents/{d.id}.json"))

    cached = [key for _, key in ann.cached]
    chunks = ann.chunks + ([store.records(cached)] if cached else [])
    tables = flatten(chunks, documents_table(docs), ann.entities, ann.xdoc_events)
    if ann.cached:
        span_problems = check_spans(ctx, only(tables, {f.document for f in ann.files} - {d for d, _ in ann.cached}))
    else:
        span_problems = check_spans(ctx, tables)
    # Follow-up findings of a document whose inputs are broken would mislead: a drifted text gets
    # no span problems (their hints would adapt the annotations to an illegal edit), and a document
    # whose annotation file failed levels 1-2 gets no warnings (nor do its entities count as unused).
    failed = ann.present - {f.document for f in ann.files} - {d for d, _ in ann.cached}
    problems += [p for p in span_problems if Path(p.path).stem not in drifted]
    problems += check_references(ctx, tables, ann.entities is not None, ann.xdoc_events is not None)
    problems += check_time_values(ctx, tables)
    if not errors(problems):
        problems += check_tables(ctx, tables)
    found: list[Problem] = []
    if lints:
        if store is not None:  # candidate warnings of unchanged documents come from the cache
            known = dict(zip((d for d, _ in ann.cached), store.candidates([k for _, k in ann.cached])))
            for document, warnings in known.items():
                shown = project.rel(project.corpus / f"{document}.txt")
                found += [Problem(shown, **w) for w in warnings or []]
            search = {d.id for d in docs} - {d for d, w in known.items() if w is not None}
            found += lint(ctx, tables, search, skip=failed | drifted)
        else:
            found = lint(ctx, tables, skip=failed | drifted)
    if store is not None:
        _update_cache(store, ann, span_problems, {d.id for d in docs},
                      _by_document(found, project) if lints else None)
    if lints:
        problems = apply_allow_list(ctx, problems + found, ann.allow)

    if paths:
        wanted = _with_document_files(project, [project.rel(Path(p)).rstrip("/") for p in paths])
        problems = [p for p in problems if any(p.path == w or p.path.startswith(w + "/") for w in wanted)]
    return Result(sort_problems(problems), tables, labels, project)


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
    """The candidate warnings of every corpus text file, by document id, as the cache stores them."""
    prefix = project.rel(project.corpus) + "/"
    out: dict[str, list[dict]] = {}
    for p in problems:
        if p.code in CANDIDATE_CODES and p.path.startswith(prefix) and p.path.endswith(".txt"):
            out.setdefault(p.path[len(prefix):-4], []).append(
                {"line": p.line, "column": p.column, "code": p.code, "message": p.message, "hint": p.hint})
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


def _close(value: str, options, what: str) -> str | None:
    match = difflib.get_close_matches(value, list(options), n=1, cutoff=0.6)
    return f"did you mean {what} {match[0]!r}?" if match else None


# ---------------------------------------------------------------- level 3: spans

_SPAN_SOURCES = (
    # layer, table, start, end, text column, pointer suffix
    ("mentions", "mentions", "start", "end", "text", ""),
    ("events", "events", "trigger_start", "trigger_end", "trigger_text", "/trigger"),
    ("quotes", "quotes", "content_start", "content_end", "content_text", "/content"),
    ("quotes", "quotes", "cue_start", "cue_end", "cue_text", "/cue"),
    ("flags", "flags", "span_start", "span_end", "span_text", "/span"),
)


def _codepoints(strings: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All strings of an array as one uint32 array of code points, with each one's start and length."""
    strings = strings.cast(pa.large_string())
    lengths = pc.utf8_length(strings).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)[strings.offset: strings.offset + len(strings) + 1]
    data = strings.buffers()[2]
    raw = data.to_pybytes()[offsets[0]:offsets[-1]] if data is not None and len(strings) else b""
    cps = np.frombuffer(raw.decode("utf-8").encode("utf-32-le"), dtype=np.uint32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else lengths
    return cps, starts, lengths


def _classes(*arrays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables over all code points: which of those in ``arrays`` are whitespace, which alphanumeric.

    Only the distinct code points present are tested (with Python's own str predicates);
    a presence table finds them in linear time, where np.unique would sort.
    """
    present = np.zeros(0x110000, dtype=bool)
    for a in arrays:
        present[a] = True
    unique = np.flatnonzero(present)
    space, word, joins = (np.zeros(0x110000, dtype=bool) for _ in range(3))
    chars = [chr(c) for c in unique.tolist()]
    space[unique] = np.fromiter((c.isspace() for c in chars), dtype=bool, count=len(chars))
    word[unique] = np.fromiter((c.isalnum() for c in chars), dtype=bool, count=len(chars))
    joins[unique] = np.fromiter((_CLUSTERING.match(c) is None for c in chars), dtype=bool, count=len(chars))
    return space, word, joins


#: Characters that never join a grapheme cluster with a neighbour (Unicode's Grapheme_Cluster_Break
#: "Other", plus controls, where a break is certain): a span edge beside them needs no closer look.
_CLUSTERING = regex.compile(r"[\p{Grapheme_Cluster_Break=Other}\p{Grapheme_Cluster_Break=Control}\n]")


def _splits_cluster(text: str, at: int) -> bool:
    """Whether offset ``at`` falls inside a grapheme cluster (extended, as the ``regex`` module's ``\\X``)."""
    if at <= 0 or at >= len(text):
        return False
    lo = max(0, at - 32)
    while lo > 0 and _CLUSTERING.match(text[lo]) is None:  # start the window on a certain boundary
        lo -= 1
    for m in regex.finditer(r"\X", text[lo:at + 32]):
        if lo + m.start() < at < lo + m.end():
            return True
        if lo + m.start() >= at:
            return False
    return False


def check_spans(ctx: Context, tables: Tables) -> list[Problem]:
    docs = tables.documents
    doc_cps, doc_starts, doc_lengths = _codepoints(docs.column("text").combine_chunks())
    problems: list[Problem] = []
    for layer, name, s_col, e_col, t_col, suffix in _SPAN_SOURCES:
        table = getattr(tables, name)
        if table.column(s_col).null_count:  # optional spans (a flag's) that are absent
            table = table.filter(pc.is_valid(table.column(s_col)))
        if not table.num_rows:
            continue
        d = pc.index_in(table.column("document"), value_set=docs.column("id")).to_numpy(zero_copy_only=False)
        start = table.column(s_col).to_numpy().astype(np.int64)
        end = table.column(e_col).to_numpy().astype(np.int64)
        ann_cps, ann_starts, ann_lengths = _codepoints(table.column(t_col).combine_chunks())
        n_doc = doc_lengths[d]
        base = doc_starts[d]

        bad_range = (start >= end) | (end > n_doc)
        bad_text = ~bad_range & (ann_lengths != end - start)
        # every annotation text's code points against the document's at the span, all at once: the
        # annotation texts lie end to end in ann_cps, so the k-th of them sits at its row's shift
        # from the document position; rows already wrong point anywhere in range and are ignored
        # (positions clipped into the text; int32 while the corpus text allows, to halve the memory traffic)
        index = np.int32 if max(len(doc_cps), len(ann_cps)) < 2**31 - 1 else np.int64
        shift = (np.where(bad_range | bad_text, 0, base + start) - ann_starts).astype(index)
        at = np.arange(len(ann_cps), dtype=index)
        at += np.repeat(shift, ann_lengths)
        if len(doc_cps):  # the few differing code points, then the rows they belong to
            wrong = np.flatnonzero(np.take(doc_cps, at, mode="clip") != ann_cps)
            bad_text[np.searchsorted(ann_starts, wrong, side="right") - 1] = True
            bad_text &= ~bad_range
        ok = ~bad_range & ~bad_text
        first = doc_cps[np.where(ok, base + start, 0)]
        last = doc_cps[np.where(ok, base + end - 1, 0)]
        before = doc_cps[np.where(ok & (start > 0), base + start - 1, 0)]
        after = doc_cps[np.where(ok & (end < n_doc), base + end, 0)]
        space, word, joins = _classes(first, last, before, after)  # of the characters at and around the spans
        bad_space = ok & (space[first] | space[last])
        cut_start = ok & (start > 0) & word[before] & word[first]
        cut_end = ok & (end < n_doc) & word[last] & word[after]
        bad_boundary = ~bad_space & (cut_start | cut_end)
        # a paragraph break inside the span (a quote's content and a flagged passage may run over
        # paragraphs: GUIDELINES §5.2, §7)
        crosses = np.zeros(len(start), dtype=bool)
        if (layer, suffix) not in (("quotes", "/content"), ("flags", "/span")):
            breaks = np.flatnonzero(doc_cps == 10)
            crosses = ok & ~bad_space & (np.searchsorted(breaks, base + end) > np.searchsorted(breaks, base + start))
        # an edge inside a grapheme cluster (a letter cut from its combining mark): only edges beside a
        # character that may join a cluster are looked at closely
        maybe = ok & ~bad_space & ~bad_boundary & ~crosses & (
            joins[first] | joins[after] | joins[before] | joins[last])
        in_cluster = np.zeros(len(start), dtype=bool)
        for i in np.flatnonzero(maybe):
            text = docs.column("text")[int(d[i])].as_py()
            in_cluster[i] = _splits_cluster(text, int(start[i])) or _splits_cluster(text, int(end[i]))

        flagged = np.nonzero(bad_range | bad_text | bad_space | bad_boundary | crosses | in_cluster)[0]
        if not len(flagged):
            continue
        sub = table.take(pa.array(flagged)).to_pylist()
        for i, row in zip(flagged, sub):
            doc_id = row["document"]
            text = docs.column("text")[int(d[i])].as_py()
            pointer = f"/{layer}/{row['index']}{suffix}"
            s, e, t = row[s_col], row[e_col], row[t_col]
            if bad_range[i]:
                problems.append(ctx.at(doc_id, pointer + "/start", "T001",
                                       f"span [{s}, {e}) is empty, inverted or outside the text (length {len(text)})",
                                       _where(text, t, s)))
            elif bad_text[i]:
                problems.append(ctx.at(doc_id, pointer + "/text", "T002",
                                       f"span text {t!r} does not match the text at [{s}, {e}): {text[s:e]!r}",
                                       _where(text, t, s)))
            elif bad_space[i]:
                problems.append(ctx.at(doc_id, pointer + "/start", "T003",
                                       f"span {t!r} starts or ends with whitespace",
                                       f"trim it to [{s + len(t) - len(t.lstrip())}, {e - len(t) + len(t.rstrip())})"))
            elif crosses[i]:
                cut = t.index("\n")
                problems.append(ctx.at(doc_id, pointer + "/start", "T006",
                                       f"span {t!r} runs over a paragraph break",
                                       f"end it in its paragraph, e.g. [{s}, {s + len(t[:cut].rstrip())}) "
                                       f"{t[:cut].rstrip()!r}, or annotate each paragraph's part"))
            elif in_cluster[i]:
                lo, hi = s, e
                while lo > 0 and _splits_cluster(text, lo):
                    lo -= 1
                while hi < len(text) and _splits_cluster(text, hi):
                    hi += 1
                problems.append(ctx.at(doc_id, pointer + "/start", "T007",
                                       f"span {t!r} cuts a character from its combining mark or cluster",
                                       f"spans end on whole characters as readers see them: [{lo}, {hi}) {text[lo:hi]!r}"))
            else:
                word_start = s
                while word_start > 0 and text[word_start - 1].isalnum():
                    word_start -= 1
                word_end = e
                while word_end < len(text) and text[word_end].isalnum():
                    word_end += 1
                problems.append(ctx.at(doc_id, pointer + "/start", "T004",
                                       f"span {t!r} cuts a word: the text around it reads {text[word_start:word_end]!r}",
                                       f"spans cover whole tokens, e.g. [{word_start}, {word_end}) {text[word_start:word_end]!r}"))
    return problems + check_name_edges(ctx, tables)


#: A name's span may end in a period only after an initial or a common abbreviation ("U.S.", "Jr.").
_ABBREVIATION = re.compile(r"(?:^|[^\w])(?:\w|Jr|Sr|St|Mt|Inc|Ltd|Co|Corp|Bros|Gen|Gov|Dr|No)\.$")


def name_core(text: str) -> tuple[int, int]:
    """The part of a name's span that GUIDELINES §2.3 allows: punctuation trimmed from both edges
    (an abbreviation's final period and a bracket the span opens are kept). Offsets into ``text``."""
    def part(ch: str) -> bool:  # a letter, digit or combining mark
        return ch.isalnum() or unicodedata.category(ch).startswith("M")

    lo, hi = 0, len(text)
    while lo < hi and not part(text[lo]):
        lo += 1
    while hi > lo and not part(text[hi - 1]):
        if text[hi - 1] == "." and _ABBREVIATION.search(text[lo:hi]):
            break
        if text[hi - 1] == ")" and "(" in text[lo:hi - 1]:
            break
        hi -= 1
    return lo, hi


def check_name_edges(ctx: Context, tables: Tables) -> list[Problem]:
    """T008: a named (NAM) mention starts or ends with punctuation: a comma, a full stop after a word,
    a quotation mark or bracket left in the span (GUIDELINES §2.3). Found in Arrow by a regular
    expression, then each candidate's corrected span is computed."""
    mentions = tables.mentions
    if not mentions.num_rows:
        return []
    level = mentions.column("level")
    names = mentions.filter(pc.and_kleene(pc.equal(level, "NAM"), pc.match_substring_regex(
        mentions.column("text"), r"^[^\p{L}\p{N}]|[^\p{L}\p{N}]$")))
    problems = []
    for row in names.to_pylist():
        t = row["text"]
        lo, hi = name_core(t)
        if (lo, hi) == (0, len(t)) or lo >= hi:
            continue
        problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/start", "T008",
                               f"name {t!r} includes punctuation at its edge",
                               f"a name's span is the name alone: [{row['start'] + lo}, {row['start'] + hi}) {t[lo:hi]!r}"))
    return problems


def _where(text: str, needle: str, near: int) -> str | None:
    """A hint with the places the span text really occurs, nearest first."""
    if not needle:
        return None
    places = [m.start() for m in re.finditer(re.escape(needle), text)]
    if not places:
        return f"{needle!r} does not occur in the document text"
    places.sort(key=lambda p: abs(p - near))
    best = places[0]
    more = f" (and {len(places) - 1} more place{'s' * (len(places) > 2)})" if len(places) > 1 else ""
    return f"{needle!r} occurs at {best}-{best + len(needle)}{more}; did you mean that?"


# ---------------------------------------------------------------- level 4: references

class _IdKeys:
    """One int64 per (document, annotation id): document number * number of distinct ids + id number.

    Ids are numbered among the distinct mention, event and quote ids of the corpus (few:
    "m1", "m2", ...); a referenced id that is none of them gets a null key, which joins nothing.
    """

    def __init__(self, tables: Tables):
        self.documents = tables.documents.column("id")
        self.ids = pc.unique(pa.chunked_array(
            [chunk for t in (tables.mentions, tables.events, tables.quotes) for chunk in t.column("id").chunks], pa.string()))

    def document_numbers(self, table: pa.Table) -> pa.ChunkedArray:
        return pc.index_in(table.column("document"), value_set=self.documents).cast(pa.int64())

    def of(self, table: pa.Table, column: str) -> pl.Series:
        number = pc.index_in(table.column(column), value_set=self.ids).cast(pa.int64())
        return pl.Series(f"{column}_key", pc.add(pc.multiply(self.document_numbers(table), len(self.ids)), number))


def check_time_values(ctx: Context, tables: Tables) -> list[Problem]:
    """S006: a time expression's value names a day or ISO week the calendar does not have (2025-02-30,
    2025-W53); the schema checks the form. Each distinct value is checked once."""
    values = tables.mentions.column("value")
    distinct = pc.unique(values.drop_null()).to_pylist() if values.null_count < len(values) else []
    wrong = [v for v in distinct if not timex_value(v)]
    if not wrong:
        return []
    rows = tables.mentions.filter(pc.is_in(values, value_set=pa.array(wrong, pa.string())))
    return [ctx.at(r["document"], f"/mentions/{r['index']}/value", "S006",
                   f"'value' {r['value']!r} is not a date in the calendar",
                   "a TIMEX3 value names a day, week or month that exists (2025-02-28, 2026-W53; not 2025-02-30)")
            for r in rows.select(["document", "index", "value"]).to_pylist()]


def check_references(ctx: Context, tables: Tables, have_entities: bool, have_xdoc: bool) -> list[Problem]:
    labels = ctx.labels
    problems: list[Problem] = []
    # (document, id) pairs become one int64 key each: the joins below hash integers, not strings
    keys = _IdKeys(tables)
    mentions = pl.from_arrow(tables.mentions).with_columns(keys.of(tables.mentions, "id"))
    events = pl.from_arrow(tables.events).with_columns(keys.of(tables.events, "id"))
    quotes = pl.from_arrow(tables.quotes).with_columns(keys.of(tables.quotes, "speaker"), keys.of(tables.quotes, "addressee"))
    args = pl.from_arrow(tables.arguments).with_columns(keys.of(tables.arguments, "mention"))
    entities = pl.from_arrow(tables.entities)
    xdoc = pl.from_arrow(tables.xdoc_events)

    # R001: ids unique within a document across layers, and within each registry
    ids = pl.concat([
        frame.select("document", pl.lit(layer).alias("layer"), "index", "id", "id_key")
        for layer, frame in (("mentions", mentions), ("events", events), ("quotes", quotes.with_columns(keys.of(tables.quotes, "id"))))
    ])
    dupes = (ids.filter(pl.col("id_key").is_duplicated())  # a hash pass; few rows are left to rank
             .with_columns(pl.int_range(pl.len()).over("id_key").alias("n")).filter(pl.col("n") > 0))
    for row in dupes.iter_rows(named=True):
        problems.append(ctx.at(row["document"], f"/{row['layer']}/{row['index']}/id", "R001",
                               f"id {row['id']!r} is already used in this document",
                               "ids are unique across the mentions, events and quotes of a document"))
    # registry and document ids name files (entity pages, documents): unique regardless of case, as
    # macOS and Windows file systems compare names
    for frame, path, key in ((entities, ctx.project.entities, "entities"), (xdoc, ctx.project.xdoc_events, "events")):
        dup = (frame.with_row_index("i").with_columns(pl.col("id").str.to_lowercase().alias("folded"))
               .with_columns(pl.col("id").first().over("folded").alias("first"))
               .filter(pl.int_range(pl.len()).over("folded") > 0))
        for row in dup.iter_rows(named=True):
            same = row["id"] == row["first"]
            problems.append(ctx.at_file(path, f"/{key}/{row['i']}/id", "R001",
                                        f"id {row['id']!r} is used twice" if same else
                                        f"id {row['id']!r} differs from {row['first']!r} only by case",
                                        "merge the two records or rename one" if same else
                                        "ids name files, and case-insensitive file systems see one name: rename one"))
    folded: dict[str, str] = {}
    for document in tables.documents.column("id").to_pylist():
        other = folded.setdefault(document.lower(), document)
        if other != document:
            problems.append(Problem(ctx.project.rel(ctx.project.corpus / f"{document}.json"), 1, 1, "R001",
                                    f"document id {document!r} differs from {other!r} only by case",
                                    "document ids name files, and case-insensitive file systems see one name: "
                                    "give the new document another id"))

    # R002 / R003: mention -> registry entity, types agree
    if have_entities:
        linked = mentions.filter(pl.col("entity").is_not_null()).join(
            entities.select("id", pl.col("type").alias("entity_type"), pl.lit(True).alias("known")),
            left_on="entity", right_on="id", how="left", suffix="_e")
        known_ids = entities["id"].to_list()
        for row in linked.filter(pl.col("known").is_null()).iter_rows(named=True):
            problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/entity", "R002",
                                   f"entity {row['entity']!r} is not in annotations/entities.json",
                                   _close(row["entity"], known_ids, "entity") or "add it to the registry"))
        for row in linked.filter(pl.col("known") & (pl.col("type") != pl.col("entity_type"))).iter_rows(named=True):
            problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/type", "R003",
                                   f"mention {row['text']!r} is {row['type']} but entity {row['entity']!r} is {row['entity_type']}",
                                   f"use type {row['entity_type']}, or link the mention to an entity of type {row['type']}"))

    mention_types = mentions.select(pl.col("id_key").alias("key"), pl.col("type").alias("mention_type"))

    # event arguments: mention exists, role allowed for the event type, filler type allowed for the role
    roles = pl.DataFrame(
        [(etype, role, allowed) for etype, rs in labels.event_roles.items() for role, allowed in rs.items()],
        schema={"type": pl.Utf8, "role": pl.Utf8, "allowed": pl.List(pl.Utf8)}, orient="row")
    width = (events["index"].max() or 0) + 1  # (document number, event index) as one int64 too
    a = (args.with_columns(pl.Series("doc", keys.document_numbers(tables.arguments)))
         .join(events.select((pl.Series("doc", keys.document_numbers(tables.events)) * width + pl.col("index")).alias("event"),
                             "type"),
               left_on=pl.col("doc") * width + pl.col("event_index"), right_on="event", how="left")
         .join(mention_types, left_on="mention_key", right_on="key", how="left")
         .join(roles, on=["type", "role"], how="left"))
    bad = (pl.col("mention_type").is_null() | pl.col("allowed").is_null()
           | ~pl.col("allowed").list.contains(pl.col("mention_type")))
    for row in a.filter(bad).iter_rows(named=True):  # only the failing rows leave polars
        pointer = f"/events/{row['event_index']}/arguments/{row['index']}"
        if row["mention_type"] is None:
            problems.append(ctx.at(row["document"], pointer + "/mention", "R002",
                                   f"argument mention {row['mention']!r} is not a mention of this document",
                                   _close(row["mention"], mentions.filter(pl.col("document") == row["document"])["id"].to_list(), "mention")))
        if row["allowed"] is None:
            allowed_roles = list(labels.event_roles.get(row["type"], {}))
            problems.append(ctx.at(row["document"], pointer + "/role", "R004",
                                   f"role {row['role']!r} is not allowed for {row['type']}",
                                   f"{row['type']} allows {', '.join(allowed_roles)}"))
        elif row["mention_type"] is not None and row["mention_type"] not in row["allowed"]:
            problems.append(ctx.at(row["document"], pointer + "/mention", "R005",
                                   f"{row['role']} of {row['type']} cannot be a {row['mention_type']} mention",
                                   f"a {row['role']} is {', '.join(row['allowed'])}"))

    # quote speaker and addressee: mentions of this document, of an entity type
    for field_ in ("speaker", "addressee"):
        q = (quotes.filter(pl.col(field_).is_not_null())
             .join(mention_types, left_on=f"{field_}_key", right_on="key", how="left")
             .filter(pl.col("mention_type").is_null() | pl.col("mention_type").is_in(labels.timex_types)))
        for row in q.iter_rows(named=True):
            pointer = f"/quotes/{row['index']}/{field_}"
            if row["mention_type"] is None:
                problems.append(ctx.at(row["document"], pointer, "R002",
                                       f"{field_} {row[field_]!r} is not a mention of this document",
                                       "annotate the speaker as a mention (a pronoun or nominal counts) and use its id"))
            elif row["mention_type"] in labels.timex_types:
                problems.append(ctx.at(row["document"], pointer, "R006",
                                       f"{field_} {row[field_]!r} is a {row['mention_type']} expression, not an entity",
                                       f"the {field_} is who says it (or is told): annotate that entity's mention "
                                       "(a name, nominal or pronoun) and give its id"))

    if have_xdoc:
        known = xdoc["id"].to_list()
        for row in events.filter(pl.col("xdoc").is_not_null() & ~pl.col("xdoc").is_in(known)).iter_rows(named=True):
            problems.append(ctx.at(row["document"], f"/events/{row['index']}/xdoc", "R002",
                                   f"cross-document event {row['xdoc']!r} is not in annotations/xdoc-events.json",
                                   _close(row["xdoc"], known, "event") or "add it to the registry"))
    return problems


# ---------------------------------------------------------------- level 5: tables

_TABLE_FILES = {"entities": ("entities", "entities"), "xdoc_events": ("xdoc-events", "events")}


def check_tables(ctx: Context, tables: Tables) -> list[Problem]:
    problems = []
    for name, schema in table_schemas(ctx.labels).items():
        frame = pl.from_arrow(getattr(tables, name))
        if "index" in frame.columns:
            frame = frame.rename({"index": "position"})
        try:
            schema.validate(frame, lazy=True)
        except pdr.errors.SchemaErrors as err:
            cases = err.failure_cases
            for case in cases.iter_rows(named=True):
                problems.append(_table_problem(ctx, name, frame, case, schema.unique))
        except Exception as err:  # noqa: BLE001 - a check that cannot run is reported, never a traceback
            problems.append(Problem(ctx.project.rel(ctx.project.annotations), 1, 1, "C001",
                                    f"{name} table: the table checks could not run ({type(err).__name__}: {err})",
                                    "please report this with the files of your change"))
    return problems


def _table_problem(ctx: Context, name: str, frame: pl.DataFrame, case: dict, unique: list[str] | None) -> Problem:
    index = case.get("index")
    if case.get("check") == "multiple_fields_uniqueness" and unique:
        what = f"{name} table: another row has the same {', '.join(unique)}"
    else:
        what = f"{name} table: {case.get('check')} failed"
        if case.get("column"):
            what += f" in column {case['column']!r}"
        if case.get("failure_case") is not None:
            what += f" (value {case['failure_case']!r})"
    if index is None or index >= frame.height:
        return Problem(ctx.project.rel(ctx.project.annotations), 1, 1, "C001", what, None)
    row = frame.row(index, named=True)
    if name == "documents":
        return Problem(ctx.project.rel(ctx.project.corpus / f"{row['id']}.json"), 1, 1, "C001", what, None)
    if name in _TABLE_FILES:
        file, key = _TABLE_FILES[name]
        return ctx.at_file(ctx.project.annotations / f"{file}.json", f"/{key}/{index}", "C001", what)
    pointer = (f"/events/{row['event_index']}/arguments/{row['position']}" if name == "arguments"
               else f"/{name}/{row['position']}")
    return ctx.at(row["document"], pointer, "C001", what)
