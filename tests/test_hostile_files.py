"""Files stay files, inside the tree, within limits: every command treats odd entries as validate does."""

import json
import os

import pytest
from conftest import DOC, copy_checkout, locate

from peacetalks.checks.validate import validate
from peacetalks.cli import main

COMMANDS = (["validate", "--no-cache"], ["fmt", "--check"], ["fmt"], ["build", "--out", "{tmp}/rel"], ["view", "--out", "{tmp}/site"],
            ["stats"], ["check", "--no-cache"])


def run_all(project, tmp_path, capsys):
    """Every command on the project: none may raise; each that checks reports a problem (exit 1)."""
    codes = {}
    for command in COMMANDS:
        argv = [a.format(tmp=tmp_path) for a in command]
        codes[command[0] + (" --check" if "--check" in command else "")] = main(["--root", str(project.root), *argv])
        capsys.readouterr()
    assert not (tmp_path / "rel").exists() and not (tmp_path / "site").exists()
    return codes


def problems(project, code):
    return [p for p in validate(project).problems if p.code == code]


@pytest.mark.parametrize("where", ["annotations/documents/{doc}.json", "corpus/{doc}.txt", "corpus/{doc}.json",
                                   "annotations/entities.json", "seeds/{doc}.txt"])
def test_a_symlink_to_a_file_outside_the_project_is_refused(project, tmp_path, capsys, where):
    path = project.root / where.format(doc=DOC)
    outside = tmp_path / "outside"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    found = problems(project, "F008")
    assert [p.path for p in found] == [where.format(doc=DOC)], [p.render() for p in validate(project).problems]
    assert "symbolic link" in found[0].message
    codes = run_all(project, tmp_path, capsys)
    assert codes["validate"] == 1 and codes["build"] == 1 and codes["check"] == 1
    assert outside.read_bytes() == path.read_bytes()  # nothing written through the link


@pytest.mark.parametrize("where", ["annotations/documents/005_draft.json", "corpus/005_draft.txt",
                                   "seeds/005_draft.txt"])
def test_a_folder_named_like_a_file_is_reported_by_every_command(project, tmp_path, capsys, where):
    (project.root / where).mkdir()
    (project.root / where / "inside.json").write_text("{}", "utf-8")
    assert [p.path for p in problems(project, "F008")] == [where]
    codes = run_all(project, tmp_path, capsys)
    assert codes["validate"] == 1 and codes["build"] == 1
    assert codes["fmt --check"] == (1 if where.startswith("annotations/") else 0)  # fmt reads annotations only


@pytest.mark.parametrize("where,needle,duplicate", [
    ("annotations/documents/{doc}.json", '"level": "NAM"', '"level": "NAM", "level": "NOM"'),
    ("annotations/documents/{doc}.json", '"document": ', '"document": "x", "document": '),
    ("annotations/entities.json", '"type": "PER"', '"type": "PER", "type": "ORG"'),
    ("corpus/{doc}.json", '"title": ', '"title": null, "title": '),
    ("annotations/allow.json", '"reason": ', '"reason": "x", "reason": '),
])
def test_a_repeated_key_is_an_error_at_its_line(project, tmp_path, capsys, where, needle, duplicate):
    path = project.root / where.format(doc=DOC)
    text = path.read_text("utf-8")
    if needle not in text:
        pytest.skip(f"{where} has no {needle}")
    path.write_text(text.replace(needle, duplicate, 1), "utf-8")
    line, _ = locate(path, duplicate)
    found = problems(project, "F011")
    assert [(p.path, p.line) for p in found] == [(where.format(doc=DOC), line)], [p.render() for p in found]
    codes = run_all(project, tmp_path, capsys)
    assert codes["validate"] == 1
    if where.startswith("annotations/"):  # the files fmt formats
        assert codes["fmt --check"] == 1 and codes["fmt"] == 1
    assert duplicate in path.read_text("utf-8")  # fmt did not resolve it by dropping a value


@pytest.mark.parametrize("where,depth", [("annotations/documents/{doc}.json", 17), ("annotations/documents/{doc}.json", 1000),
                                         ("annotations/entities.json", 200), ("annotations/xdoc-events.json", 5000),
                                         ("corpus/{doc}.json", 50)])
def test_deep_nesting_is_refused_before_any_recursive_check(project, tmp_path, capsys, where, depth):
    path = project.root / where.format(doc=DOC)
    data = json.loads(path.read_text("utf-8"))
    data["extra"] = json.loads("[" * depth + "]" * depth) if depth < 900 else None
    text = json.dumps(data)
    if data["extra"] is None:
        text = text.replace('"extra": null', '"extra": ' + "[" * depth + "]" * depth)
    path.write_text(text, "utf-8")
    found = [p for p in validate(project).problems if p.code in ("F012", "F004")]
    assert found and found[0].path == where.format(doc=DOC), [p.render() for p in validate(project).problems]
    codes = run_all(project, tmp_path, capsys)
    assert codes["validate"] == 1 and codes["build"] == 1


@pytest.mark.parametrize("where,limit", [("seeds/{doc}.txt", "MAX_SEED_BYTES"), ("corpus/{doc}.txt", "MAX_TEXT_BYTES"),
                                         ("annotations/documents/{doc}.json", "MAX_JSON_BYTES"),
                                         ("annotations/entities.json", "MAX_JSON_BYTES")])
def test_every_input_kind_has_a_size_limit_checked_before_reading(project, tmp_path, capsys, where, limit):
    import peacetalks.defaults as defaults
    path = project.root / where.format(doc=DOC)
    with open(path, "r+b") as f:  # a sparse file just over the limit: nothing is read to find it too large
        f.truncate(getattr(defaults, limit) + 1)
    found = problems(project, "F005")
    assert where.format(doc=DOC) in [p.path for p in found], [p.render() for p in validate(project).problems]
    run_all(project, tmp_path, capsys)


def test_an_oversized_article_is_not_added(project, tmp_path, capsys):
    import peacetalks.defaults as defaults
    article = tmp_path / "big.txt"
    with open(article, "wb") as f:
        f.truncate(defaults.MAX_SEED_BYTES + 1)
    assert main(["--root", str(project.root), "ingest", "--add", str(article), "--id", "005_big"]) == 1
    assert "F005" in capsys.readouterr().err and not (project.seeds / "005_big.txt").exists()


@pytest.mark.parametrize("field,value,code", [
    ("start", 9223372036854775808, "S006"), ("start", 99999999999999999999, "S006"), ("end", 2097153, "S006"),
    ("start", -1, "S006"), ("entity", "emmanuel-macron\n", "S006"), ("entity", "emmanuel-macron\u202e", "S006"),
    ("entity", "\u200bemmanuel-macron", "S006"), ("value", "2025-02-30", "S006"), ("value", "2025-W53", "S006"),
    ("value", "2025-13", "S006"), ("value", "2025-04-31TMO", "S006"),
])
def test_values_that_would_lie_are_refused(project, tmp_path, capsys, field, value, code):
    path = project.documents / f"{DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    target = next(m for m in data["mentions"] if (field == "value") == ("value" in m))
    target[field] = value
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    found = [p for p in validate(project).errors if p.path == f"annotations/documents/{DOC}.json"]
    assert [p.code for p in found] == [code], [p.render() for p in found]
    codes = run_all(project, tmp_path, capsys)
    assert codes["validate"] == 1 and codes["build"] == 1


@pytest.mark.parametrize("good", ["2024-02-29", "2026-W53", "XXXX-03", "2025-04-17TMO", "PRESENT_REF", "201X"])
def test_real_calendar_values_pass(good):
    from peacetalks.model.schemas import timex_value
    assert timex_value(good)


@pytest.mark.parametrize("field,value", [("wikidata", "Q0"), ("wikidata", "Q0123"), ("wikidata", "Q7747\n"),
                                         ("id", "Emmanuel-Macron"), ("id", "emmanuel-macron\n")])
def test_registry_values_that_would_lie_are_refused(project, field, value):
    registry = json.loads(project.entities.read_text("utf-8"))
    extra = {**next(e for e in registry["entities"] if e["id"] == "emmanuel-macron")}
    if field == "id":
        registry["entities"].append({**extra, field: value})
    else:
        next(e for e in registry["entities"] if e["id"] == "emmanuel-macron")[field] = value
    project.entities.write_text(json.dumps(registry, ensure_ascii=False), "utf-8")
    found = [p for p in validate(project).errors if p.path == "annotations/entities.json"]
    assert found and {p.code for p in found} <= {"S006", "R001"}, [p.render() for p in found]


def test_document_ids_that_differ_only_by_case_are_refused(project, tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text("Headline\nMacron met Starmer.\n", "utf-8")
    root = ["--root", str(project.root)]
    assert main([*root, "ingest", "--add", str(article), "--id", "x1"]) == 0
    assert main([*root, "ingest", "--add", str(article), "--id", "X1"]) == 1
    assert "only by case" in capsys.readouterr().err
    for bad in ("x2\n", "x2\u202e", "x\u00002"):
        assert main([*root, "ingest", "--add", str(article), "--id", bad]) == 1
    assert sorted(p.name for p in project.seeds.glob("x*")) == ["x1.txt"]


@pytest.mark.parametrize("where", ["annotations/documents/{doc}.json", "annotations/entities.json",
                                   "annotations/xdoc-events.json", "annotations/allow.json", "corpus/{doc}.json"])
@pytest.mark.parametrize("content", ["null", "null\n", " null "])
def test_a_file_of_json_null_is_an_error_not_an_absent_file(project, tmp_path, capsys, where, content):
    path = project.root / where.format(doc=DOC)
    path.write_text(content, "utf-8")
    found = [p for p in validate(project).errors if p.path == where.format(doc=DOC)]
    assert {"S004", "S001"} & {p.code for p in found}, [p.render() for p in validate(project).problems]
    codes = run_all(project, tmp_path, capsys)
    assert codes["validate"] == 1 and codes["build"] == 1


def _odd_name(folder, name: bytes):
    """A file whose name has bytes that are not UTF-8 or control characters (skipped where the file system
    refuses such a name)."""
    path = folder / os.fsdecode(name)
    try:
        path.write_bytes(b"{}")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system does not take such a name")
    return path


@pytest.mark.parametrize("where,name,shown_name,code", [
    ("annotations/documents", b"bad\xff.json", "bad\\xff.json", "F007"),
    ("annotations/documents", b"caf\xe9.json", "caf\\xe9.json", "F007"),  # (Latin-1, as an old tool writes it)
    ("annotations/documents", b"notes\xfe.txt", "notes\\xfe.txt", "F008"),
    ("annotations/documents", b"a\nb.json", "a\\nb.json", "F007"),  # (a newline would split the report's line)
    ("annotations/documents", b"\x1b[31mred.json", "\\x1b[31mred.json", "F007"),  # (an escape sequence would act)
    ("corpus", b"bad\xfe.txt", "bad\\xfe.txt", "F008"),
    ("corpus", b"bad\xfe.json", "bad\\xfe.json", "F008"),
    ("corpus", b"tab\there.txt", "tab\\there.txt", "F009"),
    ("seeds", b"bad\xfd.txt", "bad\\xfd.txt", "F007"),
])
def test_an_odd_file_name_is_reported_on_one_line_by_every_command(project, tmp_path, capsys, where, name, shown_name,
                                                                   code):
    _odd_name(project.root / where, name)
    shown = f"{where}/{shown_name}"  # (bytes that are not UTF-8 and control characters escaped)
    found = [p for p in validate(project).problems if p.path == shown]
    assert code in [p.code for p in found], [p.render() for p in validate(project).problems]  # (a seed: D002 too)
    assert validate(project, cache=True).problems == validate(project).problems  # (the cache keeps no such name)
    assert validate(project, cache=True).problems == validate(project).problems
    asked = validate(project, [str(project.root / where / os.fsdecode(name))]).problems
    assert {p.path for p in asked} == {shown} and code in [p.code for p in asked]
    for fmt in ("json", "github", "text"):
        assert main(["--root", str(project.root), "validate", "--format", fmt]) == 1
        out = capsys.readouterr().out
        out.encode("utf-8")  # (printable as it is)
        assert shown in ([p["path"] for p in json.loads(out)] if fmt == "json" else out)
        assert all(line.isprintable() for line in out.splitlines())
    codes = run_all(project, tmp_path, capsys)
    assert codes["validate"] == 1 and codes["build"] == 1 and codes["check"] == 1


def test_a_project_whose_path_is_not_utf8_works_as_any_other(tmp_path, capsys, monkeypatch):
    root = tmp_path / os.fsdecode(b"r\xffoot")
    try:
        root.mkdir()
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes UTF-8 names only")
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache"))
    project = copy_checkout(root)
    cold = validate(project).problems
    assert not [p for p in cold if p.severity == "error"], [p.render() for p in cold]
    for _ in range(2):  # (the stat index written, then read)
        assert validate(project, cache=True).problems == cold
    for argv in (["validate"], ["stats"], ["fmt", "--check"], ["build", "--out", str(tmp_path / "rel")],
                 ["check"], ["view", "--out", str(tmp_path / "site")]):
        assert main(["--root", str(root), *argv]) == 0, argv
        capsys.readouterr()


@pytest.mark.parametrize("command,code", [(["build"], 2), (["view"], 2), (["export", "conll"], 1)])  # (as other refusals)
def test_an_output_folder_whose_path_is_not_utf8_is_refused(project, tmp_path, capsys, command, code):
    out = tmp_path / os.fsdecode(b"out\xfe")
    try:
        out.mkdir()
        out.rmdir()
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes UTF-8 names only")
    assert main(["--root", str(project.root), *command, "--out", str(out)]) == code
    err = capsys.readouterr().err
    assert "out\\xfe is not a UTF-8 path" in err and "Traceback" not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in tmp_path.iterdir() if not p.name.startswith(".out"))  # (no temporary folder left)
