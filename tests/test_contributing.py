"""CONTRIBUTING.md, followed as a new contributor would: every `peacetalks` command on the page, in order."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, copy_checkout

from peacetalks.cli import main
from peacetalks.reading.project import Project
from peacetalks.release.ledger import latest

PAGE = ROOT / "CONTRIBUTING.md"
ARTICLE = ROOT / "tests" / "data" / "example-article.txt"


def commands():
    return re.findall(r"^\$ (peacetalks .+)$", PAGE.read_text("utf-8"), re.M)


def example_annotation():
    [block] = re.findall(r"```json\n(.*?)```", PAGE.read_text("utf-8"), re.S)
    return json.loads(block)


def test_the_page_covers_the_workflow():
    used = {shlex.split(c)[1] for c in commands()}
    assert {"ingest", "locate", "fmt", "validate", "rules", "view", "stats", "build", "check", "release", "diff",
            "verify", "publish", "export", "import", "agreement", "score"} <= used


def fresh_clone(dest: Path, git: list[str]) -> Project:
    """A clone of this repository with its history (so that released versions can be read from their
    commits), holding the working tree's corpus; without a repository, a copy with a fresh history."""
    if (ROOT / ".git").exists():
        subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
        for name in ("seeds", "corpus", "annotations", "schema"):
            shutil.rmtree(dest / name, ignore_errors=True)
            shutil.copytree(ROOT / name, dest / name)
        shutil.copy2(ROOT / "src" / "peacetalks" / "__init__.py", dest / "src" / "peacetalks" / "__init__.py")
    else:
        copy_checkout(dest)
        init = dest / "src" / "peacetalks" / "__init__.py"
        init.parent.mkdir(parents=True)
        shutil.copy2(ROOT / "src" / "peacetalks" / "__init__.py", init)
        subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "clone", "--allow-empty"], check=True)
    return Project(dest)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_following_contributing_from_a_fresh_clone_ends_green(tmp_path, monkeypatch, capsys):
    dest = tmp_path / "clone"
    git = ["git", "-C", str(dest), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    project = fresh_clone(dest, git)
    last = latest(project)
    history = last is None or not last.commit or subprocess.run(
        [*git, "cat-file", "-e", f"{last.commit}^{{commit}}"], capture_output=True).returncode == 0
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(project.root / ".peacetalks-cache"))

    annotated = False
    for command in commands():
        argv = [str(ARTICLE) if a == "path/to/article.txt" else a for a in shlex.split(command)[1:]]
        if argv[0] == "fmt" and not annotated:  # the contributor writes the example annotation
            path = project.documents / "005_example.json"
            assert json.loads(path.read_text("utf-8"))["mentions"] == []  # the skeleton ingest started
            path.write_text(json.dumps(example_annotation(), ensure_ascii=False, indent=2), "utf-8")
            annotated = True
        if argv[0] == "release" and not history:
            continue  # a shallow clone cannot read the last release's commit (the command says so)
        code = main(["--root", str(project.root), *argv])
        out = capsys.readouterr()
        assert code == 0, (command, out.out, out.err)
        if argv[0] == "validate":
            assert "No problems found." in out.out
        if argv[0] == "ingest":
            meta = json.loads((project.corpus / "005_example.json").read_text("utf-8"))
            assert meta["url"] == "https://example.org/news/macron-starmer" and meta["outlet"] == "Example News"
            assert meta["date"] == "2025-04-18" and meta["title"] == "Macron meets Starmer in London"
    data = json.loads((project.documents / "005_example.json").read_text("utf-8"))
    text = (project.corpus / "005_example.txt").read_text("utf-8")
    assert all(text[m["start"]:m["end"]] == m["text"] for m in data["mentions"])
    assert [(e["id"], e["trigger"]["text"]) for e in data["events"]] == [("e1", "meets"), ("e2", "met")]
    assert all(text[e["trigger"]["start"]:e["trigger"]["end"]] == e["trigger"]["text"] for e in data["events"])
    assert text.startswith(meta["title"] + "\n")  # the headline is text, annotated like the body
    assert min(m["start"] for m in data["mentions"]) == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.skipif(os.environ.get("PEACETALKS_GROWN") == "1", reason="already running on a grown corpus")
def test_the_test_suite_stays_green_on_a_grown_corpus(tmp_path, monkeypatch, capsys):
    """A contributor's valid new article must leave every corpus-level test green: grow a copy of
    the checkout through CONTRIBUTING.md's flow, then run the test suite against that copy."""
    grown = tmp_path / "grown"  # a clone's files: the checkout without what git ignores
    if not (ROOT / ".git").exists():
        pytest.skip("the checkout is not a git repository: which files a clone has is unknown")
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode("utf-8").split("\0")
    for name in filter(None, listed):  # what git tracks or would add: never the outputs .gitignore names
        if (ROOT / name).is_file():
            (grown / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, grown / name)
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache"))
    root = ["--root", str(grown)]
    article = tmp_path / "article.txt"
    article.write_text("date 2025-05-06\nStarmer and Macron talk in Paris\nBritish Prime Minister Keir Starmer met "
                       "French President Emmanuel Macron in Paris on Tuesday, aides said.\n", "utf-8")
    assert main([*root, "ingest", "--add", str(article), "--id", "900_grown", "--outlet", "Example News"]) == 0
    mentions = [{"id": f"m{i}", "text": text, "type": kind, "level": "NAM", "entity": entity}
                for i, (text, kind, entity) in enumerate([
                    ("British", "NORP", "british"), ("Keir Starmer", "PER", "keir-starmer"),
                    ("French", "NORP", "french"), ("Emmanuel Macron", "PER", "emmanuel-macron"),
                    ("Paris", "GPE", "paris")], 1)]
    mentions[-1]["occurrence"] = 2  # the headline's "Paris" is the first
    mentions.append({"id": "m6", "text": "Tuesday", "type": "DATE", "value": "2025-05-06"})
    mentions += [{"id": f"h{i}", "text": text, "type": kind, "level": "NAM", "entity": entity} for i, (text, kind, entity)
                 in enumerate([("Starmer", "PER", "keir-starmer"), ("Macron", "PER", "emmanuel-macron"),
                                ("Paris", "GPE", "paris")], 1)]
    event = {"trigger": {"text": "met"}, "type": "Contact.Meet", "realis": "actual", "arguments": [
        {"role": "Participant", "mention": "m2"}, {"role": "Participant", "mention": "m4"},
        {"role": "Place", "mention": "m5"}, {"role": "Time", "mention": "m6"}]}
    headline = {"trigger": {"text": "talk"}, "type": "Contact.Meet", "realis": "actual", "arguments": [
        {"role": "Participant", "mention": "h1"}, {"role": "Participant", "mention": "h2"},
        {"role": "Place", "mention": "h3"}]}
    (grown / "annotations" / "documents" / "900_grown.json").write_text(json.dumps(
        {"document": "900_grown", "flags": [], "mentions": mentions, "events": [headline, event], "quotes": []}), "utf-8")
    assert main([*root, "fmt"]) == 0
    assert main([*root, "check", "--no-cache"]) == 0, capsys.readouterr()
    env = {**os.environ, "PEACETALKS_GROWN": "1", "PEACETALKS_CACHE_DIR": str(tmp_path / "cache2")}
    env.pop("PEACETALKS_ROOT", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests"],
                            cwd=grown, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
