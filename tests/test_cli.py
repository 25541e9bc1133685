import json
import subprocess
import sys

from conftest import DOC

from peacetalks.cli import main
from peacetalks.diagnostics.rules import RULES


def run(*args):
    return subprocess.run([sys.executable, "-m", "peacetalks.cli", *args], capture_output=True, text=True)


def test_validate_exit_codes_and_formats(project, capsys):
    assert main(["--root", str(project.root), "validate"]) == 0
    path = project.documents / f"{DOC}.json"
    path.write_text(path.read_text("utf-8").replace('"entity": "paris"', '"entity": "pariss"', 1), "utf-8")
    capsys.readouterr()
    assert main(["--root", str(project.root), "validate"]) == 1
    out = capsys.readouterr().out
    assert f"annotations/documents/{DOC}.json:" in out and ": R002 entity 'pariss'" in out
    assert "hint: did you mean entity 'paris'?" in out
    main(["--root", str(project.root), "validate", "--format", "json"])
    problems = json.loads(capsys.readouterr().out)
    assert {p["code"] for p in problems if p["severity"] == "error"} == {"R002"}
    main(["--root", str(project.root), "validate", "--format", "github"])
    assert f"::error file=annotations/documents/{DOC}.json,line=" in capsys.readouterr().out
    main(["--root", str(project.root), "validate", "corpus/"])
    assert "R002" not in capsys.readouterr().out  # only problems in the given paths


def test_usage_errors_exit_2():
    assert run("validate", "--format", "xml").returncode == 2
    assert run("no-such-command").returncode == 2
    assert run("rules", "X999").returncode == 2


def test_jobs_is_a_number_of_processes(project, capsys):
    for bad in ("0", "-1", "many"):
        r = run("--root", str(project.root), "validate", "--jobs", bad)
        assert r.returncode == 2 and "expected a number of processes" in r.stderr and "Traceback" not in r.stderr
    path = project.documents / f"{DOC}.json"
    path.write_text(path.read_text("utf-8").replace('"entity": "paris"', '"entity": "pariss"', 1), "utf-8")
    answers = []
    for jobs in ("1", "2"):
        assert main(["--root", str(project.root), "validate", "--no-cache", "--jobs", jobs]) == 1
        answers.append(capsys.readouterr().out)
    assert answers[0] == answers[1] and "R002" in answers[0]


def test_rules_are_documented_with_examples():
    listing = run("rules").stdout
    assert all(code in listing for code in RULES)
    explained = run("rules", "T002").stdout
    assert "Bad:" in explained and "Fixed:" in explained


def test_bad_input_never_gives_a_traceback(project):
    (project.documents / f"{DOC}.json").write_bytes(b"\x00\xff{{{")
    (project.entities).write_text("[]", "utf-8")
    result = run("--root", str(project.root), "validate")
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout


def test_build_prints_where_and_how_to_load(project, tmp_path):
    result = run("--root", str(project.root), "build", "--out", str(tmp_path / "rel"))
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "rel") in result.stdout and "load_dataset" in result.stdout


def test_ingest_check(project):
    assert run("--root", str(project.root), "ingest", "--check").returncode == 0


def test_the_command_says_everything_before_it_ends(project, capsys):
    """`peacetalks` (``cli.run``) ends its process at once once ``main`` returns: its whole output is
    flushed first, its exit code is main's, and a reader that stops early is no error."""
    command = [sys.executable, "-c", "from peacetalks.cli import run; run()"]
    path = project.documents / f"{DOC}.json"
    path.write_text(path.read_text("utf-8").replace('"entity": "paris"', '"entity": "pariss"', 1), "utf-8")
    for args in (["rules"], ["--root", str(project.root), "validate", "--format", "json"]):
        capsys.readouterr()
        code = main(args)
        expected = capsys.readouterr().out
        done = subprocess.run([*command, *args], capture_output=True, text=True)
        assert (done.returncode, done.stdout) == (code, expected)
        assert "Traceback" not in done.stderr
    assert code == 1 and json.loads(expected)  # (the failing validate: every problem said, as JSON)
    reader = subprocess.Popen([*command, "rules"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.read(10)
    reader.stdout.close()  # (as `| head` does)
    assert reader.wait() in (0, 1) and b"Traceback" not in reader.stderr.read()
