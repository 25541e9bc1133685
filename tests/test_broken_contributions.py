"""A suite of broken contributions: each asserts its error code and its location."""

import json

import pytest
from conftest import DOC, locate

from peacetalks.checks.validate import validate
from peacetalks.reading.files import dump_records


def ann_path(project):
    return project.documents / f"{DOC}.json"


def edit(project, old: str, new: str, count: int = 1):
    path = ann_path(project)
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), "utf-8")


def problems(project, code):
    return [p for p in validate(project).problems if p.code == code]


def only(project, code):
    found = problems(project, code)
    assert len(found) == 1, [p.render() for p in validate(project).problems]
    return found[0]


def test_the_real_corpus_has_no_errors(project):
    assert validate(project).errors == []


def test_shifted_offsets_point_at_the_text_and_suggest_the_right_place(project):
    edit(project, '"id": "m2", "start": 17, "end": 32', '"id": "m2", "start": 18, "end": 33')
    p = only(project, "T002")
    assert (p.path, (p.line, p.column)) == (f"annotations/documents/{DOC}.json",
                                           locate(ann_path(project), '"Emmanuel Macron"'))
    assert "'Emmanuel Macron' occurs at 17-32" in p.hint


def test_span_text_mismatch(project):
    edit(project, '"text": "Marco Rubio"', '"text": "Marco Rubia"')
    p = only(project, "T002")
    assert (p.line, p.column) == locate(ann_path(project), '"Marco Rubia"')
    assert "does not occur" in p.hint


def test_span_out_of_range_and_inverted(project):
    edit(project, '"id": "m1", "start": 0, "end": 6', '"id": "m1", "start": 6, "end": 0')
    p = only(project, "T001")
    assert (p.line, p.column) == locate(ann_path(project), '6, "end": 0')


def test_span_that_cuts_a_word(project):
    edit(project, '"id": "m1", "start": 0, "end": 6, "text": "French"', '"id": "m1", "start": 0, "end": 5, "text": "Frenc"')
    p = only(project, "T004")
    assert (p.line, p.column) == locate(ann_path(project), '0, "end": 5')


def test_unknown_label(project):
    edit(project, '"text": "Emmanuel Macron", "type": "PER"', '"text": "Emmanuel Macron", "type": "PERSON"')
    p = only(project, "S005")
    assert (p.line, p.column) == locate(ann_path(project), '"PERSON"')
    assert "expected one of PER, ORG" in p.message and p.hint == "did you mean 'PER'?"


def test_role_not_allowed_for_the_event_type(project):
    data = json.loads(ann_path(project).read_text("utf-8"))
    phone = next(i for i, e in enumerate(data["events"]) if e["type"] == "Contact.Phone")
    data["events"][phone]["arguments"][0]["role"] = "Place"
    ann_path(project).write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    p = only(project, "R004")
    assert "'Place' is not allowed for Contact.Phone" in p.message
    line, _ = locate(ann_path(project), f'"id": "{data["events"][phone]["id"]}"')
    row = ann_path(project).read_text("utf-8").split("\n")[line - 1]
    assert (p.line, p.column) == (line, row.index('"Place"') + 1)


def test_duplicate_id(project):
    edit(project, '{"id": "m2",', '{"id": "m1",')
    p = only(project, "R001")
    assert (p.line, p.column) == locate(ann_path(project), '"m1"', occurrence=1)


def test_dangling_entity_reference_suggests_the_near_miss(project):
    edit(project, '"entity": "emmanuel-macron"', '"entity": "emanuel-macron"')
    p = only(project, "R002")
    assert (p.line, p.column) == locate(ann_path(project), '"emanuel-macron"')
    assert p.hint == "did you mean entity 'emmanuel-macron'?"


def test_dangling_argument_and_speaker(project):
    edit(project, '"speaker": "m', '"speaker": "zz', 1)
    p = only(project, "R002")
    assert (p.line, p.column) == locate(ann_path(project), '"zz')


def test_type_disagreement_with_the_registry(project):
    edit(project, '"text": "Emmanuel Macron", "type": "PER"', '"text": "Emmanuel Macron", "type": "ORG"')
    p = only(project, "R003")
    assert "is ORG but entity 'emmanuel-macron' is PER" in p.message


def test_missing_and_unknown_fields(project):
    edit(project, ', "level": "NAM", "entity": "french"}', ', "levle": "NAM", "entity": "french"}')
    found = {p.code: p for p in validate(project).problems if p.code in ("S002", "S003")}
    assert found["S003"].hint == "did you mean 'level'?"
    assert (found["S003"].line, found["S003"].column) == locate(ann_path(project), '"levle"')
    assert "'level'" in found["S002"].message


def test_time_expression_with_an_entity(project):
    edit(project, '"type": "DATE", "value": "2025-04-17"}', '"type": "DATE", "value": "2025-04-17", "entity": "x"}')
    assert only(project, "S007").message.startswith("field 'entity' not allowed")


@pytest.mark.parametrize("content, code, where", [
    (b'{"document": "003_b7bcec48b37e17cc",\n  "flags": [],,\n}', "F004", (2, 15)),
    (b'{"document": "caf\xe9"}', "F001", (1, 18)),
    (b'\xef\xbb\xbf{"document": "x"}', "F002", (1, 1)),
    (b'{\r\n"document": "x"}', "F003", (1, 2)),
])
def test_malformed_files(project, content, code, where):
    ann_path(project).write_bytes(content)
    p = only(project, code)
    assert (p.path, (p.line, p.column)) == (f"annotations/documents/{DOC}.json", where)


@pytest.mark.parametrize("unsafe", ["../x", "a..b", "..x", "-x", "x/y", "a" * 129])
def test_unsafe_document_id(project, unsafe):
    """An unsafe id in the document field is F007, once, at the value (not also S006 or S007)."""
    edit(project, f'"document": "{DOC}"', f'"document": "{unsafe}"')
    p = only(project, "F007")
    assert (p.line, p.column) == locate(ann_path(project), f'"{unsafe}"')
    assert not [q for q in validate(project).problems if q.code in ("S006", "S007") and q.path == p.path]


def test_file_name_must_match_its_id(project):
    path = ann_path(project)
    path.rename(project.documents / "004_592635f540e083f6.json")
    assert only(project, "F006").path == "annotations/documents/004_592635f540e083f6.json"


def test_empty_text(project):
    (project.corpus / f"{DOC}.txt").write_text("\n", "utf-8")
    assert only(project, "F010").path == f"corpus/{DOC}.txt"


def test_yaml_is_never_parsed_so_its_tags_cannot_run(project, tmp_path):
    marker = tmp_path / "pwned"
    (project.documents / "evil.yaml").write_text(
        f'!!python/object/apply:os.system ["touch {marker}"]\n', "utf-8")
    p = only(project, "F008")
    assert p.path == "annotations/documents/evil.yaml" and "YAML" in p.message
    assert not marker.exists()


def test_every_problem_is_reported_at_once(project):
    edit(project, '"entity": "paris"', '"entity": "pariss"', count=2)  # R002 twice
    edit(project, '"text": "Sumy"', '"text": "Somy"')                  # T002
    xdoc = project.xdoc_events
    xdoc.write_text(xdoc.read_text("utf-8").replace('"date": "2025-04-13"', '"date": "last Sunday"'), "utf-8")
    found = sorted((p.code, p.path) for p in validate(project).errors)
    assert found == [("R002", f"annotations/documents/{DOC}.json")] * 2 + [
        ("S006", "annotations/xdoc-events.json"), ("T002", f"annotations/documents/{DOC}.json")]


def test_a_file_failing_a_level_is_not_checked_above_it(project):
    edit(project, '"type": "PER"', '"type": "PERSON"')       # level 2
    edit(project, '"text": "Sumy"', '"text": "Somy"')        # level 3, same file: not reached
    assert [p.code for p in validate(project).errors] == ["S005"]
