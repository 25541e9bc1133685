"""scripts/migrate_headlines.py: schema 1 (headline outside the text) to schema 2 (headline as first paragraph)."""

import importlib.util
import json
import shutil
import sys

import pytest
from conftest import ROOT, copy_checkout

from peacetalks.release.versions import diff, snapshot

spec = importlib.util.spec_from_file_location("migrate_headlines", ROOT / "scripts" / "migrate_headlines.py")
migrate_headlines = importlib.util.module_from_spec(spec)
sys.modules["migrate_headlines"] = migrate_headlines
spec.loader.exec_module(migrate_headlines)

OLD = ROOT / "tests" / "data" / "schema1"  # two documents as schema 1 had them: 001 (a headline), 002 (none)


def schema1_checkout(root):
    """A checkout whose corpus and annotations are the schema-1 fixture documents only."""
    project = copy_checkout(root)
    for folder in (project.corpus, project.documents):
        shutil.rmtree(folder)
    shutil.copytree(OLD / "corpus", project.corpus)
    shutil.copytree(OLD / "annotations" / "documents", project.documents)
    return project


def spans(value):
    return [span for _, span in migrate_headlines._spans(value)]


def test_migration_moves_every_span_to_the_same_text_after_the_headline(tmp_path):
    project = schema1_checkout(tmp_path / "a")
    written, problems = migrate_headlines.migrate(project)
    assert problems == []
    assert "annotations/documents/001_2f18ed2b20c63c80.json" in written
    assert "annotations/documents/002_10aa8657d00e2537.json" not in written  # no headline: offsets stay
    for doc in ("001_2f18ed2b20c63c80", "002_10aa8657d00e2537"):
        meta = json.loads((project.corpus / f"{doc}.json").read_text("utf-8"))
        assert meta["source"]["normaliser"] == migrate_headlines.NORMALISER_VERSION
        text = (project.corpus / f"{doc}.txt").read_text("utf-8")[:-1]
        old_text = (OLD / "corpus" / f"{doc}.txt").read_text("utf-8")[:-1]
        shift = len(meta["title"]) + 1 if meta["title"] else 0
        assert text == (meta["title"] + "\n" + old_text if meta["title"] else old_text)
        before = json.loads((OLD / "annotations" / "documents" / f"{doc}.json").read_text("utf-8"))
        after = json.loads((project.documents / f"{doc}.json").read_text("utf-8"))
        old_spans, new_spans = spans(before), spans(after)
        assert len(old_spans) == len(new_spans) > 50
        for o, n in zip(old_spans, new_spans):  # (the headline shifts everything alike: the order is kept)
            assert (n["start"], n["end"], n["text"]) == (o["start"] + shift, o["end"] + shift, o["text"])
            assert text[n["start"]:n["end"]] == n["text"]
        assert {k: v for k, v in after.items() if k != "mentions"} .keys() == before.keys() - {"mentions"}


def test_migration_is_deterministic_and_idempotent(tmp_path):
    a, b = schema1_checkout(tmp_path / "a"), schema1_checkout(tmp_path / "b")
    assert migrate_headlines.migrate(a)[1] == [] and migrate_headlines.migrate(b)[1] == []
    for folder in ("corpus", "annotations/documents"):
        for path in sorted((a.root / folder).iterdir()):
            assert path.read_bytes() == (b.root / folder / path.name).read_bytes()
    assert migrate_headlines.migrate(a) == ([], [])  # a second run finds nothing to do


def test_dry_run_writes_nothing(tmp_path, capsys):
    project = schema1_checkout(tmp_path / "a")
    before = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    assert migrate_headlines.main(["--root", str(project.root), "--dry-run"]) == 0
    assert "would write annotations/documents/001_2f18ed2b20c63c80.json" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()} == before


def test_the_semantic_diff_sees_no_annotation_change_across_the_migration(tmp_path):
    project = schema1_checkout(tmp_path / "a")

    def unseeded(name):  # (this checkout holds two of the seeds' documents; the diff reads the annotated ones)
        copy = shutil.copytree(project.root, tmp_path / name)
        shutil.rmtree(copy / "seeds")
        return snapshot(str(copy), copy)
    old = unseeded("old")
    migrate_headlines.migrate(project)
    d = diff(old, unseeded("new"))
    assert d["documents"]["text_changed"] == ["001_2f18ed2b20c63c80"]
    assert all(layer["added"] == layer["removed"] == layer["changed"] == 0 for layer in d["layers"].values()), d
    assert d["bump"] == "patch"


@pytest.mark.parametrize("old, new, span, expected", [
    ("A b A", "A\nA b A", {"start": 4, "end": 5, "text": "A"}, (6, 7)),  # the headline holds the text too
    ("xx A", "A\nxx A", {"start": 3, "end": 4, "text": "A"}, (5, 6)),
    ("aaa", "H\naaa", {"start": 1, "end": 3, "text": "aa"}, (3, 5)),  # overlapping occurrences
    ("same", "same", {"start": 0, "end": 4, "text": "same"}, (0, 4)),  # no headline
])
def test_spans_are_found_again_by_text_and_occurrence(old, new, span, expected):
    data = {"document": "d", "mentions": [{"id": "m1", **span, "type": "PER", "level": "NAM", "entity": "x"}]}
    migrated, problems = migrate_headlines.migrate_document(old, new, data, "d.json")
    assert problems == []
    m = migrated["mentions"][0]
    assert (m["start"], m["end"]) == expected and new[m["start"]:m["end"]] == span["text"]


@pytest.mark.parametrize("old, new, span, code", [
    ("A b", "H\nA b", {"start": 0, "end": 1, "text": "b"}, "T001"),  # the span's text is not at its offsets
    ("A b", "H\nA c", {"start": 0, "end": 1, "text": "A"}, "D001"),  # the body changed, not only a headline
    ("A b", "HA b", {"start": 0, "end": 1, "text": "A"}, "D001"),  # no line break after the headline
])
def test_what_cannot_be_migrated_is_reported_and_nothing_is_returned(old, new, span, code):
    data = {"document": "d", "mentions": [{"id": "m1", **span, "type": "PER", "level": "NAM", "entity": "x"}]}
    migrated, problems = migrate_headlines.migrate_document(old, new, data, "d.json", lambda pointer: (7, 5))
    assert migrated is None and [p.code for p in problems] == [code]


def test_a_broken_file_stops_the_whole_migration(tmp_path, capsys):
    project = schema1_checkout(tmp_path / "a")
    path = project.documents / "002_10aa8657d00e2537.json"
    data = json.loads(path.read_text("utf-8"))
    data["mentions"][0]["text"] = "not the text"
    path.write_text(json.dumps(data, indent=1), "utf-8")
    before = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    assert migrate_headlines.main(["--root", str(project.root)]) == 1
    err = capsys.readouterr().err
    assert "annotations/documents/002_10aa8657d00e2537.json:" in err and "T001" in err and "nothing written" in err
    assert {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()} == before
    (project.corpus / "001_2f18ed2b20c63c80.json").write_text("{", "utf-8")
    assert migrate_headlines.main(["--root", str(project.root)]) == 1
    assert "corpus/001_2f18ed2b20c63c80.json:1:2: F004" in capsys.readouterr().err
