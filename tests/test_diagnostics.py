"""Diagnostics without cascades: one mistake, one report; the cause before its effects."""

import json
import os

import pytest
from conftest import DOC

from peacetalks.checks.validate import validate
from peacetalks.cli import main
from peacetalks.diagnostics.problems import Problem, display, printable, quoted, render


def doc_path(project):
    return project.documents / f"{DOC}.json"


@pytest.mark.parametrize("damage", [
    lambda s: s.replace('"type": "PER"', '"type": "PERSON"', 1),  # a schema error (level 2)
    lambda s: s.replace('"flags": [],', '"flags": [],,', 1),  # a syntax error (level 1)
    lambda s: s.replace('"mentions": [', '"mentions": {', 1),  # a structure error
    lambda s: "\ufeff" + s,  # a byte order mark
    lambda s: s[: len(s) // 2],  # a truncated file
])
def test_a_document_that_fails_levels_1_2_adds_no_warnings(project, damage):
    clean = {p.code for p in validate(project).problems}
    assert not clean
    path = doc_path(project)
    path.write_text(damage(path.read_text("utf-8")), "utf-8")
    problems = validate(project).problems
    assert problems and all(p.severity == "error" for p in problems), [p.render() for p in problems]
    assert all(p.path == f"annotations/documents/{DOC}.json" for p in problems)


def test_a_drifted_text_reports_drift_first_and_no_span_hints(project):
    path = project.corpus / f"{DOC}.txt"
    lines = path.read_text("utf-8").split("\n")
    lines[1] = "Inserted words. " + lines[1]  # shifts every later offset
    path.write_text("\n".join(lines), "utf-8")
    problems = validate(project).problems
    assert problems[0].code == "D001" and problems[0].path == f"corpus/{DOC}.txt"
    assert not [p for p in problems if p.code.startswith("T")], [p.render() for p in problems]
    assert not [p for p in problems if p.severity == "warning" and DOC in p.path]


def test_asking_for_one_file_of_a_document_shows_all_its_problems(project, capsys):
    data = json.loads(doc_path(project).read_text("utf-8"))
    data["mentions"] = [m for m in data["mentions"] if m["text"] != "Emmanuel Macron"]
    doc_path(project).write_text(json.dumps(data), "utf-8")
    everything = [p for p in validate(project).problems if DOC in p.path]
    assert any(p.path == f"corpus/{DOC}.txt" for p in everything)  # candidate warnings live on the text
    for shown in (f"annotations/documents/{DOC}.json", f"corpus/{DOC}.txt", f"corpus/{DOC}.json"):
        assert validate(project, [str(project.root / shown)]).problems == everything


@pytest.mark.parametrize("command", ["validate", "fmt"])
def test_a_path_that_does_not_exist_is_a_usage_error(project, capsys, command):
    assert main(["--root", str(project.root), command, str(project.root / "annotations" / "nope.json")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


@pytest.mark.parametrize("text,shown", [
    ("plain.json", "plain.json"),
    ("café — “quoted”.json", "café — “quoted”.json"),  # (UTF-8 stays as it is)
    (os.fsdecode(b"bad\xff.json"), "bad\\xff.json"),  # (a file name's bytes that are not UTF-8)
    (os.fsdecode(b"caf\xe9 \xfe"), "caf\\xe9 \\xfe"),
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),  # (no byte: shown as the code point)
])
def test_printable_shows_what_is_not_utf8_as_escapes(text, shown):
    assert printable(text) == shown
    shown.encode("utf-8")
    problem = Problem(text, 1, 1, "F008", f"about {text}", f"rename {text}")
    assert (problem.path, problem.message, problem.hint) == (shown, f"about {shown}", f"rename {shown}")
    for fmt in ("text", "json", "github"):
        render([problem], fmt).encode("utf-8")
    assert quoted(text) == (repr(text) if shown == text else f"'{shown}'")


@pytest.mark.parametrize("text,shown", [
    ("a\nb.json", "a\\nb.json"),  # (a newline would split the report's line)
    ("\x1b[31mred.json", "\\x1b[31mred.json"),  # (an escape sequence would act in the terminal)
    ("tab\there \u2028 \x85", "tab\\there \\u2028 \\x85"),
    (os.fsdecode(b"x\xff\n"), "x\\xff\\n"),
    ("plain — UTF-8 é", "plain — UTF-8 é"),
])
def test_a_problem_is_shown_on_one_line_and_inert_in_a_terminal(text, shown):
    assert display(text) == shown
    problem = Problem(text, 1, 1, "F008", f"about {text}", f"rename {text}")
    assert (problem.path, problem.message, problem.hint) == (shown, f"about {shown}", f"rename {shown}")
    assert render([problem]).splitlines()[0] == f"{shown}:1:1: F008 about {shown}"
