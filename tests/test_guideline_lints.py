"""The guidelines' mechanical rules (W014-W018) on small hand-built tables, and on a real document
made to break each rule."""

import json

import numpy as np
import pyarrow as pa
import pytest
from conftest import ROOT

from peacetalks.checks import guideline_lints as gl
from peacetalks.checks.validate import validate
from peacetalks.diagnostics.problems import Problem
from peacetalks.model.labels import Labels
from peacetalks.reading.annotations import Tables

LABELS = Labels(ROOT / "schema" / "labels.json")


class Ctx:
    """What the lints need of validate's Context: the labels and a place for each problem."""
    labels = LABELS

    def at(self, document, pointer, code, message, hint=None):
        return Problem(f"{document}.json", 1, 1, code, f"{pointer} {message}", hint)


def tables(text="", date=None, mentions=(), events=(), arguments=(), quotes=()):
    def table(rows, columns):
        return pa.Table.from_pylist([dict(zip(columns, r)) for r in rows],
                                    schema=pa.schema([(c, pa.int64() if c in ("index", "start", "end", "event_index",
                                                                               "trigger_start", "trigger_end",
                                                                               "content_start", "content_end")
                                                       else pa.string()) for c in columns]))
    return Tables(
        documents=table([("d", text, date)], ["id", "text", "date"]),
        mentions=table([("d", i, *m) for i, m in enumerate(mentions)],
                       ["document", "index", "id", "start", "end", "text", "type", "level", "entity", "value"]),
        events=table([("d", i, *e) for i, e in enumerate(events)],
                     ["document", "index", "id", "trigger_start", "trigger_end", "trigger_text", "realis", "modality"]),
        arguments=table(arguments, ["document", "event_index", "index", "role", "mention"]),
        quotes=table([("d", *q) for q in quotes], ["document", "content_start", "content_end", "cue_text"]),
        flags=None, entities=None, xdoc_events=None)


def codes(problems):
    return [p.code for p in problems]


# ---------------------------------------------------------------- W014 time values


@pytest.mark.parametrize("text, date, value, ok", [
    ("Thursday", "2025-04-17", "2025-04-17", True),
    ("Thursday", "2025-04-17", "2025-04-10", True),  # a Thursday, a week before: the text may say so
    ("Sunday", "2025-04-17", "2025-04-13", True),
    ("Sunday", "2025-04-17", "2025-04-14", False),  # a Monday
    ("Thursday", None, "XXXX-WXX-4", True),
    ("Thursday", None, None, False),
    ("thursday", None, "XXXX-WXX-3", False),
    ("March", None, "XXXX-03", True),
    ("March", "2025-04-17", "2025-03", True),
    ("March", "2025-04-17", "2025-04", False),
    ("last week", None, "PAST_REF", True),
    ("last week", None, None, False),
    ("next week", None, "FUTURE_REF", True),
    ("this month", None, "PRESENT_REF", True),
    ("this week", "2025-04-17", "2025-W16", True),
    ("last week", "2025-04-17", "2025-W15", True),
    ("next month", "2025-12-03", "2026-01", True),
    ("last month", "2025-01-03", "2024-12", True),
    ("last year", "2025-04-17", "2024", True),
    ("last month", "2025-04-17", "2025-04", False),
    ("the coming weeks", None, "FUTURE_REF", True),
    ("the coming weeks", "2025-04-17", "FUTURE_REF", True),  # several weeks: not checked against a date
    ("1781", None, "1781", True),  # not a checked shape
])
def test_time_values_follow_the_normalisation_rules(text, date, value, ok):
    t = tables(f"On {text} it happened.", date, mentions=[("m1", 3, 3 + len(text), text, "DATE", None, None, value)])
    assert codes(gl._time_values(Ctx(), t)) == ([] if ok else ["W014"])


@pytest.mark.parametrize("text", ["every day", "every night", "each week", "weekly"])
def test_recurring_expressions_are_not_annotated(text):
    t = tables(f"It happens {text}.", None, mentions=[("m1", 11, 11 + len(text), text, "DATE", None, None, None)])
    [p] = gl._time_values(Ctx(), t)
    assert p.code == "W014" and "recurring" in p.message


# ---------------------------------------------------------------- W015 / W016 alleged

ACCUSED = "Russia has accused Ukraine of breaching the truce."


@pytest.mark.parametrize("cue, realis, modality, expected", [
    ("accused", "actual", None, ["W015"]),
    ("accused", "other", "alleged", []),
    ("claimed", "actual", None, ["W015"]),
    ("said", "actual", None, []),  # neutral attribution: the source's realis stands
    ("accused", "other", "planned", []),  # an accusation of a plan keeps planned
])
def test_an_accused_event_is_alleged(cue, realis, modality, expected):
    start = ACCUSED.index("Ukraine of")
    trigger = ACCUSED.index("breaching")
    t = tables(ACCUSED, events=[("e1", trigger, trigger + 9, "breaching", realis, modality)],
               quotes=[(start, len(ACCUSED) - 1, cue)])
    assert codes(gl._alleged(Ctx(), t)) == expected


@pytest.mark.parametrize("text, quoted, expected", [
    ("Macron met Starmer.", False, ["W016"]),
    ("Macron reportedly met Starmer.", False, []),  # hedged by the text
    ("Macron met Starmer, Moscow claims.", False, []),
    ("Moscow said Macron met Starmer.", True, []),  # inside attributed content
])
def test_an_alleged_event_needs_a_source(text, quoted, expected):
    trigger = text.index("met")
    quotes = [(text.index("Macron"), len(text) - 1, "said")] if quoted else []
    t = tables(text, events=[("e1", trigger, trigger + 3, "met", "other", "alleged")], quotes=quotes)
    assert codes(gl._alleged(Ctx(), t)) == expected


# ---------------------------------------------------------------- W017 which mention fills a role


def test_sentences_do_not_end_at_abbreviations():
    text = "Talks with U.S. President Trump began. Mr. Witkoff went to St. Petersburg. “Yes.” He left.\nNext."
    starts = gl.sentences(text).tolist()
    assert [text[s:s + 6] for s in starts] == ["Talks ", "Mr. Wi", "“Yes.”", "He lef", "Next."]


@pytest.mark.parametrize("candidates, trigger, expected", [
    # in the sentence: the nearest name, even when a pronoun is nearer
    ([("m1", 0, 6, "NAM"), ("m2", 16, 19, "PRO")], (20, 31), "m1"),
    # in the sentence, only a pronoun: the pronoun, not a name in another sentence
    ([("m1", 0, 6, "NAM"), ("m2", 40, 43, "PRO")], (44, 50), "m2"),
    # not in the sentence: the nearest name before the trigger, not a later one
    ([("m1", 0, 6, "NAM"), ("m3", 9, 12, "PRO"), ("m4", 70, 76, "NAM")], (44, 50), "m1"),
    # nothing before: the nearest after
    ([("m4", 70, 76, "NAM"), ("m5", 80, 86, "NAM")], (44, 50), "m4"),
])
def test_pick_follows_the_rule(candidates, trigger, expected):
    cuts = np.array([0, 30, 60], dtype=np.int64)
    assert gl.pick(candidates, *trigger, cuts)[0] == expected


def test_an_argument_that_is_not_the_picked_mention_is_w017():
    text = "Lavrov spoke. Later the officials spoke by phone, Lavrov said."
    mentions = [("m1", 0, 6, "Lavrov", "PER", "NAM", "lavrov", None),
                ("m2", 50, 56, "Lavrov", "PER", "NAM", "lavrov", None)]
    trigger = text.index("spoke by")
    t = tables(text, mentions=mentions, events=[("e1", trigger, trigger + 5, "spoke", "actual", None)],
               arguments=[("d", 0, 0, "Participant", "m1")])
    [p] = gl._argument_mentions(Ctx(), t)
    assert p.code == "W017" and "is m2" in p.message
    good = tables(text, mentions=mentions, events=[("e1", trigger, trigger + 5, "spoke", "actual", None)],
                  arguments=[("d", 0, 0, "Participant", "m2")])
    assert gl._argument_mentions(Ctx(), good) == []


# ---------------------------------------------------------------- W018 nominal complements


@pytest.mark.parametrize("span, covered, expected", [
    ("representatives", False, ["W018"]),
    ("representatives of the US", False, []),
    ("representatives", True, []),  # a longer mention takes in the complement
])
def test_a_nominal_stops_before_its_complement(span, covered, expected):
    text = "She met representatives of the US on Monday."
    start = text.index("representatives")
    mentions = [("m1", start, start + len(span), span, "PER", "NOM", "reps", None)]
    if covered:
        mentions.append(("m2", start, start + 25, text[start:start + 25], "PER", "NOM", "reps", None))
    t = tables(text, mentions=mentions)
    assert codes(gl._nominal_complements(Ctx(), t)) == expected


# ---------------------------------------------------------------- on a real document


def test_the_rules_fire_on_real_documents_made_to_break_them(project):
    def edit(doc, change):
        path = project.documents / f"{doc}.json"
        data = json.loads(path.read_text("utf-8"))
        change(data)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")

    def monday(data):
        next(m for m in data["mentions"] if m["text"] == "Sunday")["value"] = "2025-04-14"

    def actual(data):
        event = next(e for e in data["events"] if e["trigger"]["text"] == "breaching")
        event["realis"] = "actual"
        event.pop("modality")
    edit("003_b7bcec48b37e17cc", monday)
    edit("000_4d90cd6c48df9336", actual)
    found = sorted((p.code, p.path) for p in validate(project).problems)
    assert found == [("W014", "annotations/documents/003_b7bcec48b37e17cc.json"),
                     ("W015", "annotations/documents/000_4d90cd6c48df9336.json")]


@pytest.mark.parametrize("value, ok", [("XXXX-WXX-4", True), ("XXXX-WXX-7", True), ("XXXX-WXX-8", False),
                                       ("XXXX-WXX-0", False), ("2025-W16-4", True), ("2025-W16-9", False),
                                       ("PAST_REF", True)])
def test_the_schema_takes_a_weekday_of_unknown_week(value, ok):
    import re
    pattern = json.loads((ROOT / "schema" / "common.json").read_text("utf-8"))["$defs"]["TimexValue"]["pattern"]
    assert bool(re.fullmatch(pattern[1:-1], value)) == ok
