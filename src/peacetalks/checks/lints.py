"""Warnings: likely misses and inconsistencies, in each document and across the corpus.

Like spaCy's ``debug data``, these do not fail validation; they point a reviewer at
what to look at. Every warning names a file and place, and a reviewed warning can be
accepted in ``annotations/allow.json`` with its reason (an entry that no longer
matches anything is reported in turn, so the list cannot go stale).

- W001 / W007  a name annotated in this document / elsewhere in the corpus is bare here
- W002 / W003  a quote without cue / speaker
- W004         an actual event without arguments
- W005         a registry entity without mentions
- W008         the same name labelled with different types across the corpus
- W009         a capitalised token sequence that no annotation covers (a candidate)
- W010         a quoted string that is neither a quote nor a mention (a candidate)
- W011         an allow-list entry that matches no warning
- W012 / W013  a name with a possessive 's / a name that ends in a lowercase word
- W014 - W018  the guidelines' mechanical rules (``guideline_lints.py``)

The per-document warnings (``candidates``) run on each shard of documents. The corpus-level
ones (W001/W007, W005, W008: ``lint``) take the corpus a part at a time (``LintPart``), in two
passes: the names are counted over every part, then each part is searched against the counts,
so that what is held does not grow with the texts. A cached run starts from the last run's
counts and searches, and reads only the documents that changed (and those a change touches).
The searches are vectorised where the work grows with the corpus (polars substring counts pick
the few document/name pairs worth a closer look); the closer look runs on single documents with
the ``re`` engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ..defaults import LINT_BATCH_DOCS
from ..diagnostics.locate import text_position
from ..diagnostics.problems import Problem
from ..diagnostics.rules import RULES
from ..reading.annotations import Tables, flatten, metadata_only
from ..reading.cache import FOUND, stored_warning
from ..reading.spool import map_spooled, spool
from . import guideline_lints
from .context import Context, close_match

_CAP_WORD = r"(?-i:[A-Z]|[À-ÖØ-Þ])[\w\-]*(?:\.(?=\w))?[\w\-]*"
_CONNECT = r"(?:of|the|for|and|in|de|von|der|al|bin)"
_NEXT_WORD = rf"[ \t](?:{_CONNECT}[ \t])?{_CAP_WORD}"
#: one capitalised word right after a sentence end (". The") or an opening quotation mark opens a
#: sentence and is no candidate; these fixed-width lookbehinds let the regex engine skip them
_OPENS_SENTENCE = "".join(rf"(?<!{re.escape(p)})" for p in (
    ". ", "! ", "? ", ": ", "; ", ".” ", ".\" ", ".’ ", ".' ", ".) ", "?” ", "!” ", " “", " \"", " ‘", "(“", "\n“", "\n\""))
CAPITALISED = re.compile(rf"(?=[A-ZÀ-ÖØ-Þ])(?<![\w\-])(?:{_CAP_WORD}(?:{_NEXT_WORD})+|{_OPENS_SENTENCE}{_CAP_WORD})")
# the lookaheads first let the regex engine skip every other position quickly
QUOTED = re.compile(r"(?=[“\"‘'])(?:“([^”\n]+)”|(?<!\w)\"([^\"\n]+)\"(?!\w)|(?<!\w)‘(.+?)’(?!\w)|(?<!\w)'(.+?)'(?!\w))")
SENTENCE_END = re.compile(r"[.!?:;]\s*[“\"‘']?\s*$")


#: the warnings found in one document's text and its own annotations only: they run on each shard of
#: documents (``candidates``), and a cached run takes the unchanged documents' ones from the cache
CANDIDATE_CODES = ("W002", "W003", "W004", "W009", "W010", "W012", "W013") + guideline_lints.CODES


def candidates(ctx: Context, tables: Tables) -> list[Problem]:
    """The per-document warnings (``CANDIDATE_CODES``) of the documents in ``tables``: each reads one
    document's text and annotations only, so they run on each shard of documents (``shards.py``)."""
    return (_quotes_and_events(ctx, tables) + _name_spans(ctx, tables) + _candidates(ctx, tables)
            + guideline_lints.check(ctx, tables))


#: ``BareNames.found`` as polars columns: the cache's table of it (``reading.cache.FOUND``)
_FOUND = pl.from_arrow(FOUND.empty_table()).schema


@dataclass
class BareNames:
    """What the corpus-level warnings counted and W001/W007 found, to be reused: the corpus's names
    (``text``, usual ``type``, ``docs``), how often each name has each type (``counts``: ``text``,
    ``type``, ``n``) and, one row per document in id order, the key of the document's files they were
    searched in (null: not cacheable) and its W001/W007 warnings (``found``: ``document``, ``key``,
    ``warnings``)."""

    names: pl.DataFrame
    found: pl.DataFrame
    counts: pl.DataFrame

    def same(self, other: "BareNames") -> bool:
        return self.names.equals(other.names) and self.counts.equals(other.counts) and self.found.equals(other.found)


#: the columns of the named mentions that the corpus-level warnings read
_NAME_COLUMNS = ("document", "index", "text", "type")
#: the mention columns a part of the corpus keeps for the corpus-level warnings (``LintPart``): its
#: names, and the spans that may cover a name (named mentions and time expressions)
_PART_COLUMNS = ("document", "index", "start", "end", "text", "type", "level")
#: the layers whose tables a part keeps (its documents' texts besides)
PART_LAYERS = ("mentions",)


def _named(mentions: pa.Table, skip: set[str] = frozenset(), documents: pa.Array | None = None,
           texts: pa.Array | None = None) -> pl.DataFrame:
    """The named (NAM) mentions (``_NAME_COLUMNS``), but those of the ``skip`` documents, as polars columns;
    with ``documents`` or ``texts``, only those of these documents or with these texts (only these rows
    and columns: a conversion copies every string; ``rechunk=False``: where a cached run put the changed
    documents among the unchanged ones, the chunks stay)."""
    keep = pc.fill_null(pc.equal(mentions.column("level"), "NAM"), False)
    for column, values in (("document", documents), ("text", texts)):
        if values is not None:
            keep = pc.and_(keep, pc.is_in(mentions.column(column), value_set=values))
    named = mentions.filter(keep).select(list(_NAME_COLUMNS))
    if skip:
        named = named.filter(pc.invert(pc.is_in(named.column("document"), value_set=pa.array(sorted(skip), pa.string()))))
    return pl.from_arrow(named, rechunk=False)


@dataclass
class LintPart:
    """Some documents as the corpus-level warnings read them: the entities their mentions link to (W005),
    and their texts with the mentions that may cover a name. Kept in one of three ways: in ``tables``
    (in memory); spooled to Arrow IPC files (``spooled``; ``template``: the other tables, empty), mapped
    from its files whenever it is read (``named``, ``read``), so that a validation holds the texts and
    annotations of one part at a time, not the corpus's; or as the cache's validated records
    (``records``, in document order; ``template``: the documents' rows, no annotations), flattened only
    for the documents a search reads (``of_records``: a one-document change reads few of them)."""

    linked: pa.Array
    tables: Tables | None = None
    spooled: dict[str, str] | None = None
    template: Tables | None = None
    records: pa.ChunkedArray | None = None
    _memo: tuple[frozenset, pl.DataFrame] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, tables: Tables, spool_to: str | None = None) -> "LintPart":
        """The part of the documents in ``tables``: in memory, or spooled to the folder ``spool_to``."""
        mentions = tables.mentions
        linked = pc.unique(mentions.column("entity")).drop_null()
        if spool_to is None:
            return cls(linked, tables=tables)
        covering = mentions.filter(pc.fill_null(pc.equal(mentions.column("level"), "NAM"), True))
        spooled = spool({"documents": tables.documents.select(["id", "text"]),
                         "mentions": covering.select(list(_PART_COLUMNS))}, spool_to)
        template = metadata_only(tables)
        return cls(linked, spooled=spooled, template=replace(template, documents=template.documents.slice(0, 0)))

    @classmethod
    def of_records(cls, records: pa.ChunkedArray, tables: Tables) -> "LintPart":
        """The part of the documents of these validated ``records`` (the cache's, in document order), with
        ``tables``: their documents' rows (metadata and texts), their annotations' tables left empty.
        Only the linked entities are read now, a field of the records without flattening them."""
        return cls(pc.unique(_mention_field(records, "entity")).drop_null(), template=tables, records=records)

    def named(self, skip: set[str] = frozenset(), documents: pa.Array | None = None,
              texts: pa.Array | None = None) -> pl.DataFrame:
        """The part's named mentions (``_named``), but the ``skip`` documents'; with ``documents`` or ``texts``,
        only some. All of a part in memory are converted once for every pass (a conversion copies the
        strings: ~75 ms for 50,000 synthetic documents)."""
        if self.tables is None or documents is not None or texts is not None:
            if self.records is not None and documents is None and texts is not None:
                documents = self._naming(texts)  # (only the documents that have such a name are flattened)
            return _named(self.mentions(documents), skip, documents, texts)
        if self._memo is None or self._memo[0] != skip:
            self._memo = (frozenset(skip), _named(self.tables.mentions, skip))
        return self._memo[1]

    def documents(self) -> pa.ChunkedArray:
        """The ids of the part's documents."""
        return self.texts().column("id")

    def texts(self) -> pa.Table:
        """The part's documents: their ids and texts (``id``, ``text``)."""
        if self.spooled is not None:
            return map_spooled({"documents": self.spooled["documents"]})["documents"]
        return (self.tables or self.template).documents.select(["id", "text"])

    def read(self) -> Tables:
        """The part's tables: its documents with their texts, and its mentions (spooled: mapped, as the rest
        is empty; of records: all of them flattened)."""
        if self.records is not None:
            return replace(self.template, mentions=self.mentions())
        return self.tables if self.tables is not None else replace(self.template, **map_spooled(self.spooled))

    def mentions(self, documents: pa.Array | None = None) -> pa.Table:
        """The part's mentions (spooled: those that may cover a name); with ``documents``, only those
        documents' (of records: only theirs are flattened)."""
        if self.records is not None:
            records = self.records if documents is None else \
                self.records.filter(pc.is_in(pc.struct_field(self.records, [0]), value_set=documents))
            return flatten(records, self.template.documents, PART_LAYERS).mentions
        mentions = self.read().mentions
        return mentions if documents is None else \
            mentions.filter(pc.is_in(mentions.column("document"), value_set=documents))

    def _naming(self, texts: pa.Array) -> pa.Array:
        """The documents of the records with a named mention of one of these ``texts``."""
        parents = []
        for chunk, mentions in _mention_lists(self.records):
            hit = pc.and_(pc.fill_null(pc.equal(mentions.field("level"), "NAM"), False),
                          pc.is_in(mentions.field("text"), value_set=texts))
            parents.append(chunk.field("document").take(pc.unique(pc.list_parent_indices(chunk.field("mentions"))
                                                                  .filter(hit))))
        return pa.concat_arrays([pa.array([], pa.string()), *parents])


def _mention_lists(records: pa.ChunkedArray):
    """Each chunk of these records with its documents' mentions as one array (the records' lists flattened,
    not the mentions table: a field of them is read where a table would convert every one)."""
    for chunk in records.chunks:
        yield chunk, pc.list_flatten(chunk.field("mentions"))


def _mention_field(records: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """A field of every mention of these records, as one column."""
    return pa.chunked_array([mentions.field(name) for _, mentions in _mention_lists(records)], pa.string())


def lint(ctx: Context, entities: pa.Table, parts: list[LintPart], skip: set[str] = frozenset(),
         previous: BareNames | None = None, keys: dict[str, str | None] | None = None,
         earlier: Callable[[list[str]], "LintPart | None"] | None = None) -> tuple[list[Problem], BareNames]:
    """The corpus-level warnings (the per-document ones are ``candidates``), and what W001/W007 found.

    ``parts``: the corpus's documents, a part at a time (``LintPart``), in any order; ``entities``:
    the registry. Two passes over the parts, one part at a time: the names are counted (``_Names``),
    then each part is searched against the counts (W001/W007 in its texts, W008 in its names).

    ``skip``: documents whose annotations could not be read or whose text drifted; they get
    no warnings, and registry-wide warnings (W005) wait until every document is read, since
    the entities a skipped document mentions are unknown. With ``previous`` (an earlier run's
    ``BareNames``) and ``keys`` (each document's key now; None: not cacheable), W001/W007 search
    only the documents whose key changed and those whose text holds a name whose corpus entry
    changed (added, gone, another usual type or another number of documents): the others'
    warnings are the earlier ones, as a search of every document would find them. With ``earlier``
    too (the part of the documents of some keys, as they were then), the names are counted in the
    documents whose key changed only (``_Names.since``)."""
    now = _key_frame(keys)
    reused = _reusable(previous, now, skip) if previous is not None else None
    names = _Names.since(previous, reused, parts, skip, earlier) if reused is not None and earlier else None
    if names is None:                                                                      # pass 1
        names = _Names.of(part.named(skip) for part in parts)
    problems = []
    if not skip:
        problems += _unused_entities(ctx, entities, [part.linked for part in parts])
    bare, state = _bare_names(ctx, parts, previous, now, names, skip, reused)              # pass 2
    return problems + bare + _label_consistency(ctx, names, parts, skip), state


def _key_frame(keys: dict[str, str | None] | None) -> pl.DataFrame:
    """Each document's key now (``document``, ``key``; null: not cacheable), as ``lint`` is given them."""
    return pl.DataFrame({"document": list(keys or {}), "key": list((keys or {}).values())},
                        schema={"document": pl.Utf8, "key": pl.Utf8})


def _reusable(previous: BareNames, now: pl.DataFrame, skip: set[str]) -> pl.DataFrame:
    """The rows of ``previous.found`` of the documents whose key is the same now (``now``: ``_key_frame``;
    not null), but the ``skip`` documents' (a skipped document gets no warnings, not even its earlier ones)."""
    reused = previous.found.join(now.drop_nulls("key"), on=["document", "key"], how="semi")
    return reused.filter(~pl.col("document").is_in(sorted(skip))) if skip else reused


@dataclass
class _Names:
    """How often each name (a named mention's text) has each type over the corpus (``counts``: ``text``,
    ``type``, ``n``), and in how many documents it is annotated (``docs``: ``text``, ``docs``): what
    W001/W007 and W008 both count, counted once, a part of the corpus at a time."""

    counts: pl.DataFrame
    docs: pl.DataFrame

    @classmethod
    def of(cls, parts) -> "_Names":
        """The counts of the named mentions of every part (``_named``; a document is in one part only)."""
        counts, docs = [], []
        for named in parts:
            counts.append(named.group_by("text", "type").agg(pl.len().cast(pl.Int64).alias("n")))
            docs.append(named.group_by("text").agg(pl.col("document").n_unique().cast(pl.Int64).alias("docs")))
        return cls._summed(counts, docs)

    @classmethod
    def since(cls, previous: BareNames, reused: pl.DataFrame, parts, skip: set[str],
              earlier: Callable[[list[str]], "LintPart | None"]) -> "_Names | None":
        """What ``of`` counts over every part, from an earlier run's counts (``previous``): the names of
        the documents it counted whose key is not the same now (changed, gone, skipped now) are taken
        out, as they were then (``earlier``: the part of those keys' documents, None if they are not
        all kept), and those of the documents not reused (``reused``: the rows of ``previous.found``
        whose key is the same now) are counted and put in. Only these documents' names are read: a
        part whose documents are all reused is not read at all. None where an earlier version is
        unknown (a document that had no key, or whose record is no longer kept), or where most
        documents changed (the registries did: counting every part anew reads less)."""
        gone = previous.found.join(reused.select("document"), on="document", how="anti")["key"]
        if gone.null_count() or len(gone) > reused.height:
            return None
        then = earlier(gone.to_list()) if len(gone) else None
        if len(gone) and then is None:
            return None
        kept = reused["document"].to_arrow()
        counts, docs = [previous.counts], [previous.names.select("text", "docs")]
        if then is not None:
            taken = cls.of([then.named()])
            counts.append(taken.counts.with_columns(-pl.col("n")))
            docs.append(taken.docs.with_columns(-pl.col("docs")))
        for part in parts:
            ids = part.documents()
            new = ids.filter(pc.invert(pc.is_in(ids, value_set=kept)))
            if len(new):
                added = cls.of([part.named(skip, documents=new.combine_chunks())])
                counts.append(added.counts)
                docs.append(added.docs)
        return cls._summed(counts, docs)

    @classmethod
    def _summed(cls, counts: list[pl.DataFrame], docs: list[pl.DataFrame]) -> "_Names":
        """Partial counts summed (a name none has any more is left out)."""
        if not counts:
            return cls(pl.DataFrame(schema={"text": pl.Utf8, "type": pl.Utf8, "n": pl.Int64}),
                       pl.DataFrame(schema={"text": pl.Utf8, "docs": pl.Int64}))
        return cls(pl.concat(counts).group_by("text", "type").agg(pl.col("n").sum()).filter(pl.col("n") > 0),
                   pl.concat(docs).group_by("text").agg(pl.col("docs").sum()).filter(pl.col("docs") > 0))

    def usual(self) -> pl.DataFrame:
        """Each name's usual type (``text``, ``usual``): its most frequent one, the first in order if
        several are as frequent; in the order of ``counts``' first rows of each name."""
        return (self.counts.sort(["text", "n", "type"], descending=[False, True, False])
                .group_by("text", maintain_order=True).agg(pl.col("type").first().alias("usual")))


def apply_allow_list(ctx: Context, problems: list[Problem], entries: list[dict],
                     skip: set[str] = frozenset()) -> list[Problem]:
    """Drop the warnings an allow-list entry accepts; report entries that accept nothing (W011), where
    every warning they could accept was searched for (``_all_searched``: the ``skip`` documents got none)."""
    if not entries:
        return problems
    used = [False] * len(entries)
    kept = []
    for p in problems:
        allowed = False
        if p.severity == "warning":
            for i, entry in enumerate(entries):
                if (entry["code"] == p.code and entry["path"] in (None, p.path) and entry["contains"] in p.message):
                    used[i] = allowed = True
        if not allowed:
            kept.append(p)
    for i, entry in enumerate(entries):
        why = None if used[i] else _unusable(ctx, entry)
        if used[i] or (why is None and not _all_searched(ctx, entry["path"], skip)):
            continue
        what, hint = why or ("", "remove it: what it accepted has been fixed or has changed")
        kept.append(ctx.at_file(ctx.project.allow, f"/allow/{i}", "W011",
                                f"allow-list entry {entry['code']} {entry['contains']!r} matches no warning{what}", hint))
    return kept


def _unusable(ctx: Context, entry: dict) -> tuple[str, str] | None:
    """Why an allow-list entry can never match a warning, whatever the corpus holds (the end of its W011
    message and the hint): its code is no warning's, or its path no file's of the project."""
    code, path = entry["code"], entry["path"]
    if code not in RULES or RULES[code].severity != "warning":
        warnings = [c for c, rule in RULES.items() if rule.severity == "warning"]
        return (f": {code} is not a warning code",
                close_match(code, warnings, "code") or "`peacetalks rules` lists the warning codes")
    if path is not None and not (ctx.project.root / path).is_file():
        return (f": {path!r} is no file of the project",
                "give the path as the warning prints it (from the project's folder), or null for any file")
    return None


def _all_searched(ctx: Context, path: str | None, skip: set[str]) -> bool:
    """Whether every warning an allow-list entry of ``path`` (None: of any file) could accept was searched
    for. Always, unless documents were skipped (``skip``: their annotations could not be read or their
    text drifted, so they got no warnings, and the registry's W005 waits for them): then only for the
    files of another document (its annotation file, text or metadata). An entry of a skipped document
    is not stale: its document has an error to fix first."""
    if not skip:
        return True
    document = ctx.project.document_of(path or "")
    return document is not None and document not in skip


def _quotes_and_events(ctx: Context, tables: Tables) -> list[Problem]:
    problems = []
    quotes = pl.from_arrow(tables.quotes)
    for row in quotes.filter(pl.col("cue_start").is_null()).iter_rows(named=True):
        problems.append(ctx.at(row["document"], f"/quotes/{row['index']}", "W002", f"quote {row['id']} has no cue",
                               "add the reporting verb or phrase as 'cue'"))
    for row in quotes.filter(pl.col("speaker").is_null()).iter_rows(named=True):
        problems.append(ctx.at(row["document"], f"/quotes/{row['index']}", "W003", f"quote {row['id']} has no speaker",
                               "annotate who says it as a mention and give its id as 'speaker'"))
    events = pl.from_arrow(tables.events)
    args = pl.from_arrow(tables.arguments).select("document", pl.col("event_index").alias("index")).unique()
    unargued = events.filter(pl.col("realis") == "actual").join(args, on=["document", "index"], how="anti")
    for row in unargued.iter_rows(named=True):
        problems.append(ctx.at(row["document"], f"/events/{row['index']}", "W004",
                               f"event {row['id']} {row['trigger_text']!r} ({row['type']}) has no arguments",
                               "add its participants, place and time where the text names them"))
    return problems


def _name_spans(ctx: Context, tables: Tables) -> list[Problem]:
    """W012: a name with a possessive 's ("Hungary's"); W013: a name that begins with a capital and
    ends in a lowercase word, as a span that swallowed the next words does ("Luxembourg next month").
    Both rules of GUIDELINES §2.3 have exceptions (McDonald's; a name such as "Doctors without
    borders"), hence warnings that a reviewer may accept."""
    mentions = tables.mentions
    if not mentions.num_rows:
        return []
    names = mentions.filter(pc.equal(mentions.column("level"), "NAM"))
    texts = names.column("text")
    possessive = pc.match_substring_regex(texts, r"\p{L}['’]s$")
    tail = pc.match_substring_regex(texts, r"^\p{Lu}\S*(?:\s+\S+)*\s+\p{Ll}[\p{L}'’-]*$")
    problems = []
    for row in names.filter(pc.or_(possessive, tail)).to_pylist():
        t, s = row["text"], row["start"]
        if re.search(r"\w['’]s$", t):
            core = t[:-2]
            problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/end", "W012",
                                   f"name {t!r} includes a possessive 's",
                                   f"the possessive is outside the name: [{s}, {s + len(core)}) {core!r}"))
        else:
            words = list(re.finditer(r"\S+", t))
            capital = [w for w in words if w.group()[0].isupper() or w.group()[0].isdigit()]
            end = capital[-1].end() if capital else words[0].end()
            problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/end", "W013",
                                   f"name {t!r} ends in the lowercase word {words[-1].group()!r}",
                                   f"did the span take in the words after the name? [{s}, {s + end}) {t[:end]!r}"))
    return problems


def _unused_entities(ctx: Context, entities: pa.Table, linked: list[pa.Array]) -> list[Problem]:
    """W005: a registry entity that no mention links to (``linked``: the entity ids of each part's mentions)."""
    used = pc.unique(pa.chunked_array(linked, pa.string())) if linked else pa.array([], pa.string())
    unused = pc.invert(pc.is_in(entities.column("id"), value_set=used))
    return [ctx.at_file(ctx.project.entities, f"/entities/{i}", "W005",
                        f"entity {entity!r} has no mentions", "remove it, or annotate its mentions")
            for i, entity in zip(np.flatnonzero(unused.to_numpy(zero_copy_only=False)).tolist(),
                                 entities.column("id").filter(unused).to_pylist())]


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# (the corpus-level searches take the tables as they are, in chunks where a cached run put the changed
# documents among the unchanged ones: ``rechunk=False``, no copy of the corpus's texts)
def _bare_names(ctx: Context, parts: list[LintPart], previous: BareNames | None = None,
                now: pl.DataFrame | None = None, counted: _Names | None = None,
                skip: set[str] = frozenset(), reused: pl.DataFrame | None = None
                ) -> tuple[list[Problem], BareNames]:
    """W001 / W007: a name annotated in this document, or elsewhere in the corpus, left bare here.

    Polars finds the annotated names in every document text at once (``extract_many``, an
    Aho-Corasick automaton of all the names: one pass per text, whatever their number) and
    counts them; only pairs where a name occurs more often than it is annotated in that
    document (a few per document at most) are searched, with word boundaries and coverage.
    The corpus's names are counted first (``counted``); the texts are then searched one part at a
    time (``parts``, the ``skip`` documents left out).
    With ``previous`` and ``now`` (each document's key now: ``_key_frame``), only the documents a change
    can touch are searched (see ``lint``):
    the others' warnings are joined from ``previous.found`` on (document, key), a table operation,
    and only the searched documents' names are read.
    """
    counted = _Names.of(part.named(skip) for part in parts) if counted is None else counted
    corpus_names = counted.usual().rename({"usual": "type"}).join(counted.docs, on="text").sort("text")
    now = _key_frame(None) if now is None else now
    changed_names: list[str] = []
    if previous is None:
        reused = pl.DataFrame(schema=_FOUND)
    else:
        changed_names = pl.concat([corpus_names.join(previous.names, on=["text", "type", "docs"], how="anti"),
                                   previous.names.join(corpus_names, on=["text", "type", "docs"], how="anti")]
                                  )["text"].unique().to_list()
        reused = _reusable(previous, now, skip) if reused is None else reused
    reused_documents = reused["document"].to_arrow()
    touched, fresh, found = [], [], {}
    for part in parts:
        documents = part.texts()
        if skip:
            documents = documents.filter(pc.invert(pc.is_in(documents.column("id"),
                                                            value_set=pa.array(sorted(skip), pa.string()))))
        if previous is not None:
            search = pc.invert(pc.is_in(documents.column("id"), value_set=reused_documents))
            if changed_names:
                hit = _texts(documents).filter(pl.col("doc_text").str.contains_any(changed_names)).select("document")
                touched.append(hit)
                search = pc.or_(search, pc.is_in(documents.column("id"), value_set=hit["document"].to_arrow()))
            # (only the texts to search go to polars: converting them copies them)
            documents = documents.filter(search)
            if not documents.num_rows:
                continue
        texts = _texts(documents)
        named = part.named(skip) if previous is None else part.named(skip, documents=documents.column("id")
                                                                     .combine_chunks())
        here = _bare_in(ctx, part.mentions, named, texts, corpus_names)
        found |= here
        searched = pl.DataFrame({"document": texts["document"]}).join(now, on="document", how="left",
                                                                     maintain_order="left")
        fresh.append(searched.with_columns(pl.Series("warnings", [[stored_warning(p) for p in here.get(d, [])]
                                                                  for d in searched["document"]],
                                                     dtype=_FOUND["warnings"])).select(list(_FOUND)))
    if touched:
        reused = reused.join(pl.concat(touched), on="document", how="anti")
    state = pl.concat([reused, *fresh]).sort("document")
    problems = [p for document in sorted(found) for p in found[document]]
    kept = reused.filter(pl.col("warnings").list.len() > 0)["warnings"].explode().to_list() if reused.height else []
    problems += [Problem(**w) for w in kept]
    return problems, BareNames(corpus_names, state, counted.counts.sort("text", "type"))


def _texts(documents) -> pl.DataFrame:
    """The documents' ids and texts as polars columns ``document`` and ``doc_text``."""
    return pl.from_arrow(documents, rechunk=False).rename({"id": "document", "text": "doc_text"})


def _bare_in(ctx: Context, mentions: Callable[[pa.Array], pa.Table], names: pl.DataFrame, texts: pl.DataFrame,
             corpus_names: pl.DataFrame) -> dict[str, list[Problem]]:
    """W001 / W007 in the documents of ``texts``, against the corpus's names: by document (``mentions``: the
    mentions of some documents, ``LintPart.mentions``)."""
    if corpus_names.is_empty() or texts.is_empty():
        return {}
    in_doc = names.join(texts.select("document"), on="document", how="semi").group_by("document", "text").agg(
        pl.len().alias("annotated"))
    # which names occur in which texts: one Aho-Corasick pass over each text for all the names at once
    # (the pairs that occur, not every document with every name: that grows as documents x names)
    present = (texts.with_columns(pl.col("doc_text").str.extract_many(corpus_names["text"].implode(), overlapping=True)
                                  .list.unique().alias("text"))
               .explode("text").drop_nulls("text"))
    candidates = (present.join(corpus_names, on="text")
                  .join(in_doc, on=["document", "text"], how="left")
                  .with_columns(pl.col("annotated").fill_null(0),
                                pl.col("doc_text").str.count_matches(pl.col("text"), literal=True).alias("occurs"))
                  .filter(pl.col("occurs") > pl.col("annotated"))
                  .select("document", "text", "type", "docs", "annotated"))
    if candidates.is_empty():
        return {}
    wanted = candidates.select("document").unique()
    m = mentions(wanted["document"].to_arrow())  # (the names and time expressions of the few documents searched)
    m = m.filter(pc.fill_null(pc.equal(m.column("level"), "NAM"), True))
    covering = (pl.from_arrow(m.select(["document", "start", "end"]))
                .group_by("document").agg(pl.col("start"), pl.col("end")))
    spans = {row[0]: (np.asarray(row[1], dtype=np.int64), np.asarray(row[2], dtype=np.int64))
             for row in covering.iter_rows()}
    text_of = dict(texts.join(wanted, on="document").iter_rows())
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    found: dict[str, list[tuple[int, int, str, str, int]]] = {}
    for document, name, type_, docs, annotated in candidates.iter_rows():
        text, (starts, ends) = text_of[document], spans.get(document, empty)
        at = text.find(name)
        while at != -1:
            end = at + len(name)
            bounded = (at == 0 or not _word(text[at - 1])) and (end == len(text) or not _word(text[end]))
            if bounded and not ((starts < end) & (ends > at)).any():
                found.setdefault(document, []).append((at, end, type_, "W001" if annotated else "W007",
                                                       docs - (1 if annotated else 0)))
            at = text.find(name, at + 1)
    problems: dict[str, list[Problem]] = {}
    for document, hits in sorted(found.items()):
        text, last_end = text_of[document], -1
        shown = ctx.project.rel(ctx.project.corpus / f"{document}.txt")
        for start, end, type_, code, others in sorted(hits, key=lambda h: (h[0], -h[1])):
            if start < last_end:
                continue  # inside a longer bare name already reported
            last_end = end
            where = ("elsewhere in this document" if code == "W001"
                     else f"in {others} other document{'s' * (others != 1)}")
            problems.setdefault(document, []).append(Problem(
                shown, *text_position(text, start), code,
                f"{text[start:end]!r} at {start}-{end} is annotated as {type_} {where} but not here",
                f"add a mention for [{start}, {end}) to annotations/documents/{document}.json"))
    return problems


def _label_consistency(ctx: Context, names: _Names, parts: list[LintPart], skip: set[str] = frozenset()
                       ) -> list[Problem]:
    """W008: a name with a different type here than in most of the corpus (the names of each part
    against the corpus's counts)."""
    counts = names.counts
    mixed = counts.filter(pl.col("text").is_in(
        counts.group_by("text").agg(pl.len().alias("k")).filter(pl.col("k") > 1)["text"].implode()))
    if mixed.is_empty():
        return []
    summary = (mixed.sort("n", "type", descending=[True, False]).group_by("text", maintain_order=True)
               .agg(pl.col("type").first().alias("usual"),
                    pl.format("{} {}", pl.col("type"), pl.col("n")).str.join(", ").alias("all")))
    problems, texts = [], summary["text"].to_arrow()
    for part in parts:  # (only the mentions of these names are read)
        odd = part.named(skip, texts=texts).join(summary, on="text").filter(pl.col("type") != pl.col("usual"))
        problems += [ctx.at(row["document"], f"/mentions/{row['index']}/type", "W008",
                            f"{row['text']!r} is {row['type']} here but usually {row['usual']} in the corpus ({row['all']})",
                            f"use {row['usual']} if it refers the same way, or accept the difference in annotations/allow.json")
                     for row in odd.iter_rows(named=True)]
    return problems


def _opens_sentence(text: str, start: int) -> bool:
    """Whether a word at ``start`` opens a sentence: at a line start or after . ! ? : ; (quotation marks aside)."""
    before = text[text.rfind("\n", 0, start) + 1:start].rstrip(" ")
    if before and before[-1] in "“\"‘'(":
        return True  # an opening quotation mark starts a sentence too
    before = before.rstrip(" ”’\"')")
    return not before or before[-1] in ".!?:;"


def _coverage(n: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Prefix sums of a text's covered characters: span [s, e) touches an annotation iff c[e] - c[s] > 0."""
    starts, ends = np.clip(starts, 0, n), np.clip(ends, 0, n)  # out-of-range spans are T001 errors already
    ok = starts < ends
    diff = np.zeros(n + 1, dtype=np.int32)
    np.add.at(diff, starts[ok], 1)
    np.add.at(diff, ends[ok], -1)
    covered = np.cumsum(diff[:-1]) > 0
    return np.concatenate([[0], np.cumsum(covered)])




def _spans(table, document_ids: list[str], start: str, end: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document index, start, end) of a layer's spans, sorted by document index."""
    lookup = pl.DataFrame({"document": document_ids, "d": np.arange(len(document_ids), dtype=np.int64)},
                          schema={"document": pl.Utf8, "d": pl.Int64})
    frame = (pl.from_arrow(table.select(["document", start, end])).rename({start: "start", end: "end"})
             .drop_nulls().join(lookup, on="document").sort("d"))
    return frame["d"].to_numpy(), frame["start"].to_numpy(), frame["end"].to_numpy()


def _in_batch(spans, lo: int, hi: int, base: np.ndarray, lengths: np.ndarray):
    """The spans of documents lo..hi-1 in the coordinates of their joined text (clipped to each document)."""
    d, s, e = spans
    a, b = np.searchsorted(d, [lo, hi])
    local = d[a:b] - lo
    n = lengths[local]
    return base[local] + np.clip(s[a:b], 0, n), base[local] + np.clip(e[a:b], 0, n)


def _candidates(ctx: Context, tables: Tables) -> list[Problem]:
    """W009 capitalised sequences and W010 quoted strings that no annotation covers.

    Documents are searched in batches, their texts joined by line breaks (no candidate
    crosses a line): the regex engine finds the candidates, numpy prefix sums over the
    batch's coverage drop the covered ones, and only the few left become problems.
    """
    ids = tables.documents.column("id").to_pylist()
    if not ids:
        return []
    texts = tables.documents.column("text").to_pylist()
    names = [_spans(tables.mentions, ids, "start", "end"), _spans(tables.events, ids, "trigger_start", "trigger_end")]
    names = tuple(np.concatenate([x[k] for x in names]) for k in range(3))
    order = np.argsort(names[0], kind="stable")
    names = tuple(x[order] for x in names)
    quotes = _spans(tables.quotes, ids, "content_start", "content_end")
    problems = []
    for lo in range(0, len(ids), LINT_BATCH_DOCS):
        batch = texts[lo:lo + LINT_BATCH_DOCS]
        lengths = np.asarray([len(t) for t in batch], dtype=np.int64)
        base = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
        big = "\n".join(batch)
        n_start, n_end = _in_batch(names, lo, lo + len(batch), base, lengths)
        q_start, q_end = _in_batch(quotes, lo, lo + len(batch), base, lengths)
        covered = _coverage(len(big), n_start, n_end)
        said = _coverage(len(big), q_start, q_end)
        hits: list[tuple[int, int, str, str]] = []

        found = [(m.start(), m.end(), " " in m.group()) for m in CAPITALISED.finditer(big)]
        if found:
            at = np.asarray(found, dtype=np.int64)
            keep = covered[at[:, 1]] - covered[at[:, 0]] == 0  # not covered by a mention or trigger
            idx = np.flatnonzero(keep)
            if len(idx):
                lines = big.split("\n")
                line_starts = np.concatenate([[0], np.cumsum([len(line) + 1 for line in lines])[:-1]])
                heading = np.asarray([not SENTENCE_END.search(line) and len(line.split()) <= 12 for line in lines])
                keep[idx[heading[np.searchsorted(line_starts, at[idx, 0], "right") - 1]]] = False
            for i in np.flatnonzero(keep).tolist():
                start, end, several = found[i]
                if big[start:end] == "I" or (not several and _opens_sentence(big, start)):
                    continue
                hits.append((start, end, "W009", f"capitalised {big[start:end]!r}"))

        quoted = []
        for m in QUOTED.finditer(big):
            group = next(g for g in range(1, 5) if m.group(g) is not None)
            inner = m.group(group)
            quoted.append((m.start(group), m.end(group) - (len(inner) - len(inner.rstrip(".,;:!? ")))))
        if quoted:
            at = np.asarray(quoted, dtype=np.int64)
            bare = said[at[:, 1]] - said[at[:, 0]] == 0  # not inside a quote's content
            # not inside one name ('coalition of the willing' in quotation marks): the longest reach of
            # the spans that start at or before the quoted text
            by_start = np.argsort(n_start, kind="stable")
            reach = np.maximum.accumulate(n_end[by_start]) if len(n_start) else n_end
            k = np.searchsorted(n_start[by_start], at[:, 0], "right") - 1
            inside = (k >= 0) & (reach[np.maximum(k, 0)] >= at[:, 1]) if len(n_start) else np.zeros(len(at), bool)
            for i in np.flatnonzero(bare & ~inside).tolist():
                start, end = quoted[i]
                hits.append((start, end, "W010", f"quoted {big[start:end]!r}"))

        for start, end, code, what in hits:
            d = int(np.searchsorted(base, start, "right") - 1)
            text, local = batch[d], start - int(base[d])
            shown = ctx.project.rel(ctx.project.corpus / f"{ids[lo + d]}.txt")
            if code == "W009":
                problems.append(Problem(shown, *text_position(text, local), code,
                                        f"{what} at {local}-{local + end - start} is not annotated",
                                        "annotate it if it names an entity, or accept it in annotations/allow.json"))
            else:
                problems.append(Problem(shown, *text_position(text, local), code,
                                        f"{what} at {local}-{local + end - start} is neither a quote nor a mention",
                                        "annotate the attribution (content, cue, speaker), or accept scare quotes "
                                        "in annotations/allow.json"))
    return problems
