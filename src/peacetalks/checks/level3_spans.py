"""Level 3, spans: every span against its document's text, over the whole corpus at once.

Incidents (each a T code; ``peacetalks rules T00N`` explains it): a span out of range or
inverted (T001), whose text is not the text at its offsets (T002), with whitespace at an
edge (T003), cutting a word (T004), running over a paragraph break (T006), splitting a
grapheme cluster (T007), and a name with punctuation at an edge (T008). Code points of all
texts are numpy arrays; only failing rows become problems.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex

from ..diagnostics.problems import Problem
from ..model.layers import LAYER_TABLE
from ..reading.annotations import Tables
from .context import Context

_SPAN_SOURCES = tuple(  # layer, table, start, end, text column, pointer suffix: from the layer table
    (layer.name, layer.name, *part.columns(), part.pointer) for layer in LAYER_TABLE for part in layer.spans)

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


