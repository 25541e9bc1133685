"""Spans cannot lie: paragraphs, grapheme clusters, and the name-span rules of GUIDELINES §2.3."""

import json

import pytest
from conftest import DOC

from peacetalks.checks.level3_spans import name_core
from peacetalks.checks.validate import validate
from peacetalks.release.build import build


def doc(project):
    path = project.documents / f"{DOC}.json"
    return path, json.loads(path.read_text("utf-8"))


def text_of(project):
    return (project.corpus / f"{DOC}.txt").read_text("utf-8").removesuffix("\n")


def add_mention(project, start, end, **fields):
    path, data = doc(project)
    text = text_of(project)
    data["mentions"].append({"id": "m999", "start": start, "end": end, "text": text[start:end],
                             "type": "GPE", "level": "NAM", **fields})
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def codes(project, path_part=DOC):
    return [(p.code, p.hint) for p in validate(project).problems if path_part in p.path]


@pytest.mark.parametrize("part", ["mention", "trigger", "cue"])
def test_no_span_runs_over_a_paragraph_break(project, part):
    text = text_of(project)
    cut = text.index("\n")
    start = text.rfind(" ", 0, cut) + 1
    end = text.index(" ", cut + 1)
    path, data = doc(project)
    if part == "mention":
        data["mentions"].append({"id": "m999", "start": start, "end": end, "text": text[start:end], "type": "ORG",
                                 "level": "NAM", "entity": "nato"})
    elif part == "trigger":
        data["events"][0]["trigger"] = {"start": start, "end": end, "text": text[start:end]}
    else:
        q = next(q for q in data["quotes"] if q.get("cue"))
        q["cue"] = {"start": start, "end": end, "text": text[start:end]}
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    found = [(c, h) for c, h in codes(project) if c == "T006"]
    assert len(found) == 1 and text[start:cut] in found[0][1]


def test_a_quote_may_run_over_paragraphs(project):
    path, data = doc(project)
    text = text_of(project)
    cut = text.index("\n")
    q = data["quotes"][0]
    q["content"] = {"start": cut - 5, "end": cut + 6, "text": text[cut - 5:cut + 6]}
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert "T006" not in [c for c, _ in codes(project)]


@pytest.fixture
def accented(project, tmp_path):
    """A document whose text has letters with combining marks, emoji sequences and flags."""
    from peacetalks.cli import main
    article = tmp_path / "a.txt"
    article.write_text("Headline\nAdébáyọ̀ met Zoë 👍🏽 in Kraków 🇺🇦 today.\n", "utf-8")
    assert main(["--root", str(project.root), "ingest", "--add", str(article), "--id", "x1"]) == 0
    return project, (project.corpus / "x1.txt").read_text("utf-8").removesuffix("\n")


@pytest.mark.parametrize("word,cut", [("Adébáyọ̀", -1), ("👍🏽", 1), ("🇺🇦", 1), ("🇺🇦", -1)])
def test_no_span_edge_inside_a_grapheme_cluster(accented, word, cut):
    project, text = accented
    start = text.index(word)
    end = start + (len(word) + cut if cut < 0 else cut)
    (project.documents / "x1.json").write_text(json.dumps({"document": "x1", "flags": [], "mentions": [
        {"id": "m1", "start": start, "end": end, "text": text[start:end], "type": "PER", "level": "NAM",
         "entity": "emmanuel-macron"}],
        "events": [], "quotes": []}, ensure_ascii=False), "utf-8")
    found = [(p.code, p.hint) for p in validate(project).problems if p.path == "annotations/documents/x1.json"]
    assert [c for c, _ in found] == ["T007"], found
    assert repr(word) in found[0][1]


def test_whole_clusters_pass(accented):
    project, text = accented
    mentions = []
    for i, word in enumerate(("Adébáyọ̀", "Zoë", "Kraków"), 1):
        s = text.index(word)
        mentions.append({"id": f"m{i}", "start": s, "end": s + len(word), "text": word, "type": "PER", "level": "NAM",
                         "entity": "emmanuel-macron"})
    (project.documents / "x1.json").write_text(json.dumps({"document": "x1", "flags": [], "mentions": mentions,
                                                           "events": [], "quotes": []}, ensure_ascii=False), "utf-8")
    assert not [p for p in validate(project).errors if "x1" in p.path]


@pytest.mark.parametrize("text,core", [("Maria Lindqvist,", "Maria Lindqvist"), ("“Kremlin", "Kremlin"),
                                       ("Kyiv.", "Kyiv"), ("(Kyiv)", "Kyiv"), ("U.S.", "U.S."), ("Kyiv (city)", "Kyiv (city)"),
                                       ("Sr.", "Sr."), ("Ukraine;", "Ukraine"), ("'EU'", "EU")])
def test_name_core(text, core):
    lo, hi = name_core(text)
    assert text[lo:hi] == core


def find(text, needle):
    at = text.find(needle)
    assert at >= 0, needle
    return at


@pytest.mark.parametrize("extra", [",", "."])
def test_a_name_with_punctuation_at_its_edge_is_an_error_with_the_corrected_span(project, extra):
    text = text_of(project)
    path, data = doc(project)
    m = next(m for m in data["mentions"] if m.get("level") == "NAM" and text[m["end"]:m["end"] + 1] == extra)
    at, name = m["start"], m["text"]
    m["end"] += 1
    m["text"] += extra
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    found = [(c, h) for c, h in codes(project) if c.startswith("T")]
    assert found == [("T008", f"a name's span is the name alone: [{at}, {at + len(name)}) {name!r}")]


def test_a_possessive_and_a_swallowed_tail_are_warnings_with_the_corrected_span(project):
    text = text_of(project)
    path, data = doc(project)
    for needle in ("Macron's", "Macron’s"):
        if needle in text:
            at = find(text, needle)
            break
    else:
        pytest.skip("no possessive in this document")
    data["mentions"] = [m for m in data["mentions"] if m["start"] != at]
    data["mentions"].append({"id": "m998", "start": at, "end": at + 8, "text": text[at:at + 8], "type": "PER",
                             "level": "NAM", "entity": "emmanuel-macron"})
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert ("W012", f"the possessive is outside the name: [{at}, {at + 6}) 'Macron'") in codes(project)


def test_a_name_that_swallowed_the_next_words_is_a_warning(project):
    text = text_of(project)
    import re
    m = re.search(r"\b([A-Z][a-z]+) ([a-z]+ [a-z]+)\b", text)
    path, data = doc(project)
    start, end = m.start(), m.end()
    data["mentions"] = [x for x in data["mentions"] if not (start <= x["start"] < end)]
    data["mentions"].append({"id": "m997", "start": start, "end": end, "text": text[start:end], "type": "GPE",
                             "level": "NAM", "entity": "ukraine"})
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert ("W013", f"did the span take in the words after the name? [{start}, {start + len(m.group(1))}) "
                    f"{m.group(1)!r}") in codes(project)


def test_a_valid_corpus_with_accents_still_builds(accented, tmp_path):
    project, text = accented
    s = text.index("Kraków")
    (project.documents / "x1.json").write_text(json.dumps({"document": "x1", "flags": [], "mentions": [
        {"id": "m1", "start": s, "end": s + 6, "text": "Kraków", "type": "GPE", "level": "NAM", "entity": "paris"}],
        "events": [], "quotes": []}, ensure_ascii=False), "utf-8")
    assert build(project, tmp_path / "rel").counts["documents"] >= 1
