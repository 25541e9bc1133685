"""Warnings for the guideline rules that can be checked mechanically (GUIDELINES §3, §4, §2.3).

- W014  a time expression's value against the normalisation rules of §3: a weekday or a
        month name, "this/last/next week|month|year", a recurring expression (not annotated)
- W015  an event that an accusation asserts, presented as actual (§4.2: alleged)
- W016  an alleged event that no source in the text claims (§4.2)
- W017  an argument that is not the mention §4.1 picks: the nearest name of its entity in
        the trigger's sentence (else its nearest mention there), else the nearest name (or
        mention) before the trigger
- W018  a nominal mention that stops before its "of" complement (§2.3: the noun phrase
        includes prepositional complements)

Sentences here are the text's paragraphs cut after ``.``, ``!`` or ``?`` (and a closing
quotation mark) before a capital or an opening mark: the rule-based sentencizer of the
``ner`` config cuts the same places in news prose, and a lint may be approximate where
validation may not. Each check works on the corpus tables; its per-row work is limited to
the rows a cheap vectorised filter selects.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import polars as pl

from ..diagnostics.problems import Problem
from ..reading.annotations import Tables
from .context import Context

CODES = ("W014", "W015", "W016", "W017", "W018")  # each found from one document's own files: cacheable
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_RELATIVE = re.compile(r"(this|last|next|the past|the last|the next|the coming|the previous) (week|month|year)(s?)")
_RECURRING = re.compile(r"(every|each) \w+|daily|weekly|monthly|yearly|nightly|every \w+ and every \w+")
_SENTENCE_CUT = re.compile(r"(?<=[.!?])[”\"’')\]]*\s+(?=[A-Z“\"‘(\[])")
_DIRECTION = {"this": "PRESENT_REF", "last": "PAST_REF", "the past": "PAST_REF", "the last": "PAST_REF",
              "the previous": "PAST_REF", "next": "FUTURE_REF", "the next": "FUTURE_REF", "the coming": "FUTURE_REF"}


def check(ctx: Context, tables: Tables) -> list[Problem]:
    return (_time_values(ctx, tables) + _alleged(ctx, tables) + _argument_mentions(ctx, tables)
            + _nominal_complements(ctx, tables))


_ABBREVIATION = re.compile(r"(?:\b(?:[A-Z]\.)+|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Jr|Sr|Inc|Co|No|vs|Prof)\.)$")


def sentences(text: str) -> np.ndarray:
    """Start offsets of the sentences of ``text`` (sorted): paragraph starts and cuts after sentence
    ends, except after an abbreviation ("U.S. President", "Mr. Witkoff", "St. Petersburg")."""
    cuts = {m.end() for m in _SENTENCE_CUT.finditer(text)
            if not _ABBREVIATION.search(text, max(0, m.start() - 12), m.start())}
    starts = {0} | {m.end() for m in re.finditer(r"\n", text)} | cuts
    return np.array(sorted(starts), dtype=np.int64)


# ------------------------------------------------------------------ W014 time values


def expected_value(text: str, date: str | None) -> str | None:
    """The value §3 gives a time expression of one of the checked shapes, or None (not checked here)."""
    t = text.lower().strip()
    if t in WEEKDAYS:
        day = WEEKDAYS.index(t) + 1
        return f"XXXX-WXX-{day}" if date is None else f"weekday {day}"
    if t in MONTHS:
        month = MONTHS.index(t) + 1
        return f"XXXX-{month:02d}" if date is None else f"month {month:02d}"
    m = _RELATIVE.fullmatch(t)
    if m is None:
        return None
    direction, unit, plural = m.groups()
    if date is None:
        return _DIRECTION[direction]  # undated: only the direction is known
    if plural or direction not in ("this", "last", "next"):
        return None  # a stretch of several units, or a wording §3 gives no single value for
    d = _dt.date.fromisoformat(date)
    step = {"this": 0, "last": -1, "next": 1}[direction]
    if unit == "week":
        year, week, _ = (d + _dt.timedelta(weeks=step)).isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        month = d.month + step
        return f"{d.year + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}"
    return f"{d.year + step}"


def _fits(value: str | None, expected: str) -> bool:
    if expected.startswith("weekday "):
        try:
            return value is not None and _dt.date.fromisoformat(value[:10]).isoweekday() == int(expected[8:])
        except ValueError:
            return False
    if expected.startswith("month "):
        return value is not None and re.fullmatch(rf"\d{{4}}-{expected[6:]}", value) is not None
    return value == expected


def _time_values(ctx: Context, tables: Tables) -> list[Problem]:
    """W014: a time expression whose value breaks §3's rules for its shape, or a recurring one."""
    timex = (pl.from_arrow(tables.mentions.select(["document", "index", "text", "type", "value"]))
             .filter(pl.col("type").is_in(["DATE", "TIME"]))
             .join(pl.from_arrow(tables.documents.select(["id", "date"])), left_on="document", right_on="id"))
    problems = []
    for (text, value, date), rows in timex.group_by("text", "value", "date"):
        t = text.lower().strip()
        if _RECURRING.fullmatch(t):
            found = ("recurring time expressions (TimeML SET) are not annotated",
                     "remove the mention (GUIDELINES §3)")
        elif (expected := expected_value(text, date)) is None or _fits(value, expected):
            continue
        else:
            wanted = {"weekday": "the date of that weekday in the document's week or before",
                      "month  ": f"YYYY-{expected[6:]}"}.get(expected[:7], repr(expected))
            found = (f"{text!r} has the value {value!r}; GUIDELINES §3 gives {wanted}"
                     + ("" if date else " in an undated document"),
                     "normalise against the document date (corpus/<id>.json); undated: XXXX-WXX-N for weekday N, "
                     "XXXX-MM for a month, PAST_REF / PRESENT_REF / FUTURE_REF for last / this / next")
        for row in rows.iter_rows(named=True):
            problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/value", "W014", *found))
    return problems


# ------------------------------------------------------------------ W015 / W016 alleged


def _alleged(ctx: Context, tables: Tables) -> list[Problem]:
    """W015: an event inside the content of an accusation (its cue begins with a stem labels.json lists
    for `alleged`) that is presented as actual; W016: an alleged event inside no attributed content
    and without a hedge ("allegedly", "reportedly") in its sentence."""
    stems = ctx.labels.alleged_cue_stems
    events = pl.from_arrow(tables.events.select(["document", "index", "id", "trigger_start", "trigger_text",
                                                 "realis", "modality"]))
    quotes = pl.from_arrow(tables.quotes.select(["document", "content_start", "content_end", "cue_text"]))
    inside = (events.join(quotes, on="document", how="inner")
              .filter((pl.col("trigger_start") >= pl.col("content_start"))
                      & (pl.col("trigger_start") < pl.col("content_end"))))
    accusing = (pl.col("cue_text").str.to_lowercase().str.contains(f"^(?:{'|'.join(map(re.escape, stems))})")
                .fill_null(False))
    problems = []
    for row in inside.filter(accusing & (pl.col("realis") == "actual")).unique(["document", "index"]).iter_rows(named=True):
        problems.append(ctx.at(row["document"], f"/events/{row['index']}/realis", "W015",
                               f"event {row['id']} {row['trigger_text']!r} is asserted by an accusation "
                               f"(cue {row['cue_text']!r}) but presented as actual",
                               "realis 'other' with modality 'alleged' (GUIDELINES §4.2), unless the text "
                               "itself asserts it elsewhere"))
    sourced = inside.select("document", "index").unique()
    lonely = events.filter(pl.col("modality") == "alleged").join(sourced, on=["document", "index"], how="anti")
    if lonely.height:
        texts = dict(pl.from_arrow(tables.documents.select(["id", "text"])).iter_rows())
        for row in lonely.iter_rows(named=True):
            text = texts[row["document"]]
            cuts = sentences(text)
            i = int(np.searchsorted(cuts, row["trigger_start"], side="right")) - 1
            sentence = text[cuts[i]:cuts[i + 1] if i + 1 < len(cuts) else len(text)].lower()
            if re.search(r"\b(allegedly|reportedly|purportedly|supposedly|" + "|".join(map(re.escape, stems)) + ")",
                         sentence):
                continue
            problems.append(ctx.at(row["document"], f"/events/{row['index']}/modality", "W016",
                                   f"event {row['id']} {row['trigger_text']!r} is alleged, but no quote's content "
                                   "holds it and its sentence names no claim",
                                   "alleged needs a source the text reports (a quote, an accusation); "
                                   "otherwise choose the realis the text gives (GUIDELINES §4.2)"))
    return problems


# ------------------------------------------------------------------ W017 argument mentions


def _argument_mentions(ctx: Context, tables: Tables) -> list[Problem]:
    """W017: an argument whose mention is not the one §4.1 picks among its entity's mentions.

    Vectorised: every (argument, mention of the same entity) pair gets the rank ``pick`` gives it
    (tier, then the tier's order), sentences are found for the few documents that have such pairs,
    and one sort picks each argument's mention."""
    args = pl.from_arrow(tables.arguments.select(["document", "event_index", "index", "role", "mention"]))
    if args.is_empty():
        return []
    mentions = pl.from_arrow(tables.mentions.select(["document", "id", "start", "end", "level", "entity"]))
    events = pl.from_arrow(tables.events.select(["document", "index", "id", "trigger_start", "trigger_end"]))
    linked = (args.join(mentions.rename({"id": "mention"}), on=["document", "mention"])
              .filter(pl.col("entity").is_not_null())
              .join(events.rename({"index": "event_index", "id": "event"}), on=["document", "event_index"]))
    # an entity that fills two roles of one event (rare) is left alone: which mention goes where is open
    linked = linked.filter(pl.len().over("document", "event_index", "entity") == 1)
    pairs = (linked.select("document", "event_index", "index", "entity", "trigger_start", "trigger_end")
             .join(mentions.rename({"id": "rival", "start": "r_start", "end": "r_end", "level": "r_level"}),
                   on=["document", "entity"]))
    pairs = pairs.filter(pl.len().over("document", "event_index", "index") > 1)  # one mention: nothing to pick
    if pairs.is_empty():
        return []
    texts = pl.from_arrow(tables.documents.select(["id", "text"])).filter(
        pl.col("id").is_in(pairs["document"].unique().implode()))
    # every sentence start of those documents as one sorted key (document number, offset): a position's
    # sentence is where its own key falls among them
    ids = texts["id"].to_list()
    starts = [sentences(text) for text in texts["text"].to_list()]
    number = {doc: i for i, doc in enumerate(ids)}
    keys = np.concatenate([i * _SPAN + c for i, c in enumerate(starts)]) if starts else np.zeros(0, np.int64)
    doc_no = pairs["document"].replace_strict(number, return_dtype=pl.Int64).to_numpy() * _SPAN
    same = (np.searchsorted(keys, doc_no + pairs["trigger_start"].to_numpy(), side="right")
            == np.searchsorted(keys, doc_no + pairs["r_start"].to_numpy(), side="right"))
    name = pl.col("r_level") == "NAM"
    before = pl.col("r_end") <= pl.col("trigger_start")
    distance = pl.max_horizontal(pl.lit(0), pl.col("r_start") - pl.col("trigger_end"),
                                 pl.col("trigger_start") - pl.col("r_end"))
    width = pl.col("r_end") - pl.col("r_start")
    ranked = pairs.with_columns(pl.Series("same", same)).with_columns(
        pl.when(pl.col("same") & name).then(0).when(pl.col("same")).then(1)
        .when(before & name).then(2).when(before).then(3).otherwise(4).alias("tier"),
        # within a tier: nearest first (in the sentence), latest end first (before), earliest start (after)
        pl.when(pl.col("same")).then(distance).when(before).then(-pl.col("r_end")).otherwise(pl.col("r_start"))
        .alias("near"),
        (-width).alias("wide"),
        pl.when(pl.col("same")).then(pl.col("r_start")).otherwise(0).alias("first"))
    best = (ranked.sort(["document", "event_index", "index", "tier", "near", "wide", "first"])
            .group_by(["document", "event_index", "index"], maintain_order=True).first()
            .select("document", "event_index", "index", pl.col("rival").alias("best")))
    wrong = (linked.join(best, on=["document", "event_index", "index"])
             .filter(pl.col("best") != pl.col("mention")).sort(["document", "event_index", "index"]))
    return [ctx.at(row["document"], f"/events/{row['event_index']}/arguments/{row['index']}/mention", "W017",
                   f"{row['role']} of {row['event']} is {row['mention']}; the mention GUIDELINES §4.1 picks for "
                   f"entity {row['entity']!r} is {row['best']}",
                   f"link {row['best']}: the nearest mention in the trigger's sentence, else the nearest name "
                   "before the trigger")
            for row in wrong.iter_rows(named=True)]


_SPAN = 1 << 32  # more code points than any document may have (MAX_TEXT_BYTES)


def pick(candidates: list[tuple], t_start: int, t_end: int, cuts: np.ndarray) -> tuple | None:
    """Among (id, start, end, level) mentions of one entity, the one §4.1 picks for a trigger at
    [t_start, t_end): in the trigger's sentence, the nearest name, else the nearest mention of any
    level (at equal distance, the longer span); outside it, the nearest name before the trigger,
    else the nearest mention before it, else the nearest after it."""
    i = int(np.searchsorted(cuts, t_start, side="right")) - 1
    lo, hi = int(cuts[i]), int(cuts[i + 1]) if i + 1 < len(cuts) else 1 << 62

    def distance(c):
        return max(0, c[1] - t_end, t_start - c[2])
    same = [c for c in candidates if lo <= c[1] < hi]
    for pool in ([c for c in same if c[3] == "NAM"], same):
        if pool:
            return min(pool, key=lambda c: (distance(c), -(c[2] - c[1]), c[1]))
    before = [c for c in candidates if c[2] <= t_start]
    names = [c for c in before if c[3] == "NAM"]
    for pool in (names, before):
        if pool:
            return max(pool, key=lambda c: (c[2], c[2] - c[1]))
    after = [c for c in candidates if c[1] >= t_end]
    return min(after, key=lambda c: (c[1], -(c[2] - c[1]))) if after else None


# ------------------------------------------------------------------ W018 nominal complements


def _nominal_complements(ctx: Context, tables: Tables) -> list[Problem]:
    """W018: a nominal mention followed directly by "of" and a noun phrase that no longer mention covers."""
    mentions = pl.from_arrow(tables.mentions.select(["document", "index", "id", "start", "end", "text", "level"]))
    noms = mentions.filter(pl.col("level") == "NOM")
    if noms.is_empty():
        return []
    texts = pl.from_arrow(tables.documents.select(["id", "text"])).rename({"id": "document", "text": "doc_text"})
    followed = (noms.join(texts, on="document")
                .filter(pl.col("doc_text").str.slice(pl.col("end"), 4) == " of "))
    if followed.is_empty():
        return []
    spans = mentions.group_by("document").agg(pl.col("start"), pl.col("end"))
    covering = {d: (np.asarray(s), np.asarray(e)) for d, s, e in spans.iter_rows()}
    problems = []
    for row in followed.iter_rows(named=True):
        starts, ends = covering[row["document"]]
        if ((starts <= row["start"]) & (ends > row["end"] + 4)).any():
            continue  # a longer mention takes in the complement
        after = re.match(r" of ((?:the |a |an )?[\w’'-]+(?: [A-Z][\w’'-]*)*)", row["doc_text"][row["end"]:])
        problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/end", "W018",
                               f"nominal {row['text']!r} stops before its complement "
                               f"'of {after.group(1) if after else '…'}'",
                               "a nominal mention spans its noun phrase with prepositional complements, without "
                               "relative clauses and appositions (GUIDELINES §2.3); accept a real exception "
                               "in annotations/allow.json"))
    return problems
