"""Every label inventory is read from schema/labels.json; nothing keeps a second copy."""

import re
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from peacetalks.model.labels import Labels
from peacetalks.model.schemas import Schemas
from peacetalks.model.tables import table_schemas
from peacetalks.release.rows import features

LABELS = Labels(ROOT / "schema" / "labels.json")


def test_all_schemas_are_valid_draft_2020_12():
    Schemas(ROOT / "schema").check_schemas()


def test_schema_label_fields_reference_the_inventory():
    schema = Schemas(ROOT / "schema").schema("annotations")
    mention = schema["$defs"]["Mention"]["properties"]
    assert mention["type"] == {"anyOf": [{"$ref": "urn:peacetalks:schema:labels#/$defs/EntityType"},
                                         {"$ref": "urn:peacetalks:schema:labels#/$defs/TimexType"}]}
    assert schema["$defs"]["Event"]["properties"]["type"]["$ref"].endswith("/EventType")


def test_classlabels_and_pandera_read_the_inventory():
    feats = features(LABELS)
    assert feats["mentions"]["type"].names == LABELS.mention_types
    assert feats["events"]["realis"].names == LABELS["Realis"].names
    checks = table_schemas(LABELS)["mentions"].columns["type"].checks
    assert any(getattr(c, "statistics", {}).get("allowed_values") == LABELS.mention_types for c in checks)


def test_every_role_filler_type_is_a_declared_type():
    for roles in LABELS.event_roles.values():
        for allowed in roles.values():
            assert set(allowed) <= set(LABELS.mention_types)


@pytest.mark.parametrize("value, ok", [("2025-04-17", True), ("2025-W16", True), ("2025-03", True), ("PAST_REF", True),
                                       ("2025-04-17TNI", True), ("Thursday", False), ("2025-13", False)])
def test_timex_values(value, ok):
    schemas = Schemas(ROOT / "schema")
    timex = schemas.documents["urn:peacetalks:schema:common"]["$defs"]["TimexValue"]
    assert jsonschema.Draft202012Validator(timex).is_valid(value) is ok


def test_the_guidelines_show_every_inventory_from_labels_json():
    text = (ROOT / "annotations" / "GUIDELINES.md").read_text("utf-8")
    shown = set(re.findall(r"<!-- labels:(\w+) ", text))
    assert shown == set(LABELS.inventories) - {"Provenance"}  # (provenance is the layers' metadata, not a label)
    for key in shown:
        for label in LABELS[key].labels:
            assert f"| `{label.name}` | **{label.title}.** {label.description}" in text.replace("\\|", "|")


def test_a_definition_changed_in_labels_json_makes_fmt_check_fail_until_fmt_rewrites_the_guidelines(project, capsys):
    from peacetalks.cli import main
    root = ["--root", str(project.root)]
    labels = project.schema / "labels.json"
    labels.write_text(labels.read_text("utf-8").replace(
        "A party asks, urges or orders another to act", "A party asks, urges, or orders another party to act"), "utf-8")
    assert main([*root, "fmt", "--check"]) == 1
    assert "annotations/GUIDELINES.md" in capsys.readouterr().out
    assert main([*root, "fmt"]) == 0
    assert "asks, urges, or orders another party to act" in project.guidelines.read_text("utf-8")
    assert main([*root, "fmt", "--check"]) == 0


def test_an_unknown_inventory_in_the_guidelines_is_reported(project, capsys):
    from peacetalks.cli import main
    text = project.guidelines.read_text("utf-8")
    project.guidelines.write_text(text + "\n<!-- labels:Colours -->\n<!-- /labels:Colours -->\n", "utf-8")
    assert main(["--root", str(project.root), "fmt", "--check"]) == 1
    out = capsys.readouterr()
    assert "annotations/GUIDELINES.md:" in out.out + out.err and "S005 unknown label inventory 'Colours'" in out.out + out.err


def test_valid_files_do_not_import_the_detailed_validator(tmp_path):
    """jsonschema and referencing (~45 ms of imports) explain a file that fails jsonschema-rs's fast check;
    a corpus whose files pass never imports them. Once a file fails, they are imported and explain it."""
    import subprocess
    import sys
    bad = tmp_path / "bad.json"
    bad.write_text('{"document": "x", "mentions": [{"id": "m1", "start": 0, "end": 1, "text": "x", "type": "PERSON"}]}')
    code = ("import sys; from pathlib import Path; from peacetalks.checks.validate import validate; "
            "from peacetalks.model.schemas import Schemas; from peacetalks.reading.project import Project; "
            "r = validate(Project(Path(sys.argv[1]))); assert not r.errors, r.errors; "
            "print('jsonschema' in sys.modules, 'referencing' in sys.modules); "
            "import orjson; errors = Schemas(Path(sys.argv[1]) / 'schema').errors('annotations', "
            "orjson.loads(Path(sys.argv[2]).read_bytes())); print(sorted({e.code for e in errors}), 'jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT), str(bad)], capture_output=True, text=True, check=True)
    first, second = out.stdout.strip().splitlines()
    assert first == "False False"
    assert "S005" in second and second.endswith("True")


def _stated_id_rule(value: str) -> bool:
    """common.json's Id as its description states it: letters, digits, '.', '_' and '-', starting with a
    letter or digit, no '..', at most 128 characters."""
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value)) and ".." not in value and len(value) <= 128


@given(st.text(alphabet="aZ09._-/ é\\", max_size=12) | st.sampled_from(["a" * 128, "a" * 129, "a." * 64, "a." * 65]))
@settings(max_examples=400, deadline=None)
def test_the_id_rule_is_the_stated_one(value):
    """Every reader asks the schema (``Schemas.is_valid_id``); both validators agree with the rule as stated."""
    schemas = Schemas(ROOT / "schema")
    rule = schemas.documents["urn:peacetalks:schema:common"]["$defs"]["Id"]
    assert schemas.is_valid_id(value) is _stated_id_rule(value)
    assert jsonschema.Draft202012Validator(rule).is_valid(value) is _stated_id_rule(value)


@pytest.mark.parametrize("value", ["a..b", "..x", "../x", "a/b", "-a", ".a", "a...", "é", "a b", "a" * 129])
def test_an_unsafe_id_is_one_problem_of_the_id_form(value):
    """One fault, one problem: an unsafe id is S006 (the required form, with the rule as hint), never also
    a vague "value is not allowed here"; in the ``document`` field it is F007 (see test_broken_contributions)."""
    schemas = Schemas(ROOT / "schema")
    mention = {"id": value, "start": 0, "end": 1, "text": "x", "type": "PER", "level": "NAM", "entity": "e"}
    found = schemas.errors("annotations", {"document": "d", "flags": [], "mentions": [mention], "events": [],
                                           "quotes": []})
    assert [(e.pointer, e.code) for e in found] == [("/mentions/0/id", "S006")]
    assert "no '..'" in found[0].hint


def test_no_module_copies_the_id_rule():
    """The Id rule lives in schema/common.json only: no module writes its pattern again."""
    from peacetalks import __file__ as package
    copies = [p.name for p in Path(package).parent.rglob("*.py") if "A-Za-z0-9._-" in p.read_text("utf-8")]
    assert copies == []
