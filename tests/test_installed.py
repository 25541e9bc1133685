"""The installed package is read-only: outside a checkout every command works from the current
folder, never writes under the package, and says which corpus it works on."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A copy of the package laid out as a wheel installs it (the corpus under peacetalks/_data),
    made read-only, outside any checkout."""
    base = tmp_path_factory.mktemp("installed")
    package = base / "site-packages" / "peacetalks"
    shutil.copytree(ROOT / "src" / "peacetalks", package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("schema", "seeds", "corpus", "annotations"):
        shutil.copytree(ROOT / name, package / "_data" / name)
    for p in sorted(package.rglob("*"), reverse=True):
        p.chmod(0o555 if p.is_dir() else 0o444)
    package.chmod(0o555)
    before = tree(package)
    yield base, package
    for p in [package, *package.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    assert tree(package) == before, "a command wrote under the installed package"


def run(installed, tmp_path, *args, env=None):
    base, _ = installed
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if k not in ("PEACETALKS_ROOT", "PEACETALKS_CACHE_DIR")}
    environ.update({"PYTHONPATH": str(base / "site-packages"), "XDG_CACHE_HOME": str(tmp_path / "user-cache"),
                    "PYTHONDONTWRITEBYTECODE": "1", **(env or {})})
    result = subprocess.run([sys.executable, "-m", "peacetalks.cli", *args], cwd=work, env=environ,
                            capture_output=True, text=True)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result, work


def test_reading_commands_work_on_the_embedded_corpus(installed, tmp_path):
    _, package = installed
    for args in (["validate"], ["stats"], ["fmt", "--check"], ["ingest", "--check"]):
        result, _ = run(installed, tmp_path, *args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert f"corpus: {package / '_data'} (embedded in the installed package, read-only)" in result.stderr


def test_outputs_go_to_the_current_folder_and_the_cache_to_the_users(installed, tmp_path):
    result, work = run(installed, tmp_path, "build")
    assert result.returncode == 0, result.stderr
    [release] = list((work / "release").iterdir())
    assert (release / "manifest.json").is_file()
    result, work = run(installed, tmp_path, "view")
    assert result.returncode == 0, result.stderr
    assert (work / "site" / "index.html").is_file()
    result, _ = run(installed, tmp_path, "validate")
    assert result.returncode == 0
    assert list((tmp_path / "user-cache").rglob("validated-*.arrow")), "the cache went to the user's cache folder"


@pytest.mark.parametrize("args", [
    ["ingest", "--add", str(ROOT / "tests" / "data" / "example-article.txt"), "--id", "005_x"],
    ["ingest"],
    ["fmt"],
    ["release", "0.9.0"],
])
def test_commands_that_change_the_corpus_refuse_outside_a_checkout(installed, tmp_path, args):
    result, work = run(installed, tmp_path, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "read-only" in result.stderr and "checkout" in result.stderr
    assert not any(work.iterdir())


@pytest.mark.parametrize("root", ["/nonexistent/peacetalks", "", "  ", "{tmp}", "{file}"])
@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_root_that_is_not_a_project_is_a_usage_error(installed, tmp_path, root, how):
    (tmp_path / "a-file").write_text("x")
    root = root.format(tmp=tmp_path, file=tmp_path / "a-file")
    if how == "environment" and root == "":
        pytest.skip("an empty environment variable is the same as an unset one")
    args, env = (["--root", root], None) if how == "option" else ([], {"PEACETALKS_ROOT": root})
    result, _ = run(installed, tmp_path, *args, "validate", env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("peacetalks validate: error: ")
    assert ("--root" if how == "option" else "PEACETALKS_ROOT") in lines[0]
