"""tools/agreement.py: two annotations of the same documents, their agreement and their disagreements."""

import json

import pytest
from conftest import DOC, copy_checkout, locate
from sklearn.metrics import cohen_kappa_score

from peacetalks.cli import main
from peacetalks.reading.files import dump_records
from peacetalks.tools.agreement import AgreementError, agreement, kappa


@pytest.fixture
def pair(tmp_path):
    a, b = copy_checkout(tmp_path / "a"), copy_checkout(tmp_path / "b")
    path = b.documents / f"{DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    nam = next(m for m in data["mentions"] if m.get("level") == "NAM")
    nam["level"] = "NOM"  # a label disagreement
    realis = next(e for e in data["events"] if e["realis"] == "actual")
    realis["realis"] = "generic"
    dropped = data["events"].pop()  # an event only A annotated
    path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    return a, b, nam, realis, dropped


def test_identical_annotations_agree_fully(tmp_path):
    a = copy_checkout(tmp_path / "a")
    result = agreement(str(a.root), str(a.root), a.root)
    assert not result["disagreements"]
    for layer in result["layers"].values():
        assert layer["exact"]["f1"] == layer["overlap"]["f1"] == 1.0
        assert all(v["kappa"] == 1.0 for v in layer["labels"].values())


def test_disagreements_are_counted_and_placed(pair):
    a, b, nam, realis, dropped = pair
    result = agreement(str(a.root), str(b.root), a.root)
    events = result["layers"]["events"]
    n = events["a"]
    assert events["b"] == n - 1
    assert events["exact"]["recall"] == pytest.approx((n - 1) / n) and events["exact"]["precision"] == 1.0
    assert events["exact"]["f1"] == pytest.approx(2 * (n - 1) / (2 * n - 1))
    assert result["layers"]["mentions"]["labels"]["level"]["observed"] < 1.0
    where = {(d["layer"], d["what"].split(":")[0].split(" ")[0]): d for d in result["disagreements"]}
    level = where[("mentions", "level")]
    assert level["a"].endswith(f"annotations/documents/{DOC}.json:{locate(a.documents / f'{DOC}.json', json.dumps(nam['id']))[0]}")
    assert level["b"] == f"annotations/documents/{DOC}.json:{locate(b.documents / f'{DOC}.json', json.dumps(nam['id']))[0]}"
    only = [d for d in result["disagreements"] if d["layer"] == "events" and d["what"].endswith("only in A")]
    assert len(only) == 1 and only[0]["b"] == "-"
    assert any(d["layer"] == "events" and d["what"] == "realis: actual / generic" for d in result["disagreements"])


def test_kappa_is_cohens():
    a = ["PER", "PER", "ORG", "GPE", "ORG", "PER", "GPE", "GPE"]
    b = ["PER", "ORG", "ORG", "GPE", "ORG", "PER", "PER", "GPE"]
    assert kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert kappa(["x", "x"], ["x", "x"]) == 1.0


def test_invalid_sides_are_refused(pair, capsys):
    a, b, *_ = pair
    bad = b.documents / f"{DOC}.json"
    bad.write_text(bad.read_text("utf-8").replace('"type": "PER"', '"type": "PERSON"', 1), "utf-8")
    with pytest.raises(AgreementError, match="does not validate"):
        agreement(str(a.root), str(b.root), a.root)
    assert main(["--root", str(a.root), "agreement", str(a.root), "no-such-revision"]) == 1
    assert "neither a project folder nor a git revision" in capsys.readouterr().err


def test_recorded_figures_validate_rewrite_identically_and_reach_the_card(pair, tmp_path, capsys):
    from peacetalks.checks.validate import validate
    from peacetalks.release.build import build

    a, b, *_ = pair
    assert main(["--root", str(a.root), "agreement", str(a.root), str(b.root), "--record"]) == 0
    first = a.agreement.read_bytes()
    record = json.loads(first)
    result = agreement(str(a.root), str(b.root), a.root)
    assert record["documents"] == result["document_ids"] and record["a"] == "a" and record["b"] == "b"
    events = record["layers"]["events"]
    assert events["span_f1_exact"] == round(result["layers"]["events"]["exact"]["f1"], 4)
    assert main(["--root", str(a.root), "agreement", str(a.root), str(b.root), "--record"]) == 0
    assert a.agreement.read_bytes() == first  # the same comparison, the same bytes
    assert [p for p in validate(a).problems if p.severity == "error"] == []
    card = (build(a, tmp_path / "release").path / "README.md").read_text("utf-8")
    section = card.split("## Inter-annotator agreement", 1)[1].split("\n## ", 1)[0]
    assert f"{len(record['documents'])} document" in section
    assert f"| events | {events['a']} | {events['b']} | {events['span_f1_exact']:.3f} |" in section
    capsys.readouterr()


def test_a_damaged_record_is_reported_at_its_place(tmp_path):
    from peacetalks.checks.validate import validate

    a = copy_checkout(tmp_path / "a")
    a.agreement.write_text(json.dumps({"a": "x", "b": "y", "documents": [DOC], "layers": {"mentions": {
        "a": 1, "b": 1, "span_f1_exact": 1.5, "span_f1_overlap": 1.0, "labels": {}, "links": {}}}}, indent=1), "utf-8")
    found = [p for p in validate(a).problems if p.path == "annotations/agreement.json"]
    assert [p.code for p in found] and all(p.code.startswith("S") for p in found)
    assert found[0].line == locate(a.agreement, '"span_f1_exact"')[0]


def test_the_card_says_when_no_double_annotation_is_recorded(tmp_path):
    from peacetalks.release.build import build

    a = copy_checkout(tmp_path / "a")
    assert not a.agreement.exists()
    card = (build(a, tmp_path / "release").path / "README.md").read_text("utf-8")
    assert "No double annotation is recorded for this version" in card
