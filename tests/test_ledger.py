"""The release ledger: one version is one dataset, in any clone."""

import json
import shutil
import subprocess

import pytest
from conftest import ROOT

from peacetalks.cli import main
from peacetalks.reading.files import dump_records
from peacetalks.release.build import BuildError, build
from peacetalks.release.ledger import (
    LedgerError,
    build_version,
    entries,
    latest,
    sources_digest,
)
from peacetalks.release.versions import ReleaseError, diff, plan, snapshot

D000 = "000_4d90cd6c48df9336"
HAS_HISTORY = (ROOT / ".git").exists() and shutil.which("git") is not None


def run(project, *args):
    return main(["--root", str(project.root), *args])


def add_flag(project):
    path = project.documents / f"{D000}.json"
    data = json.loads(path.read_text("utf-8"))
    data["flags"].append({"code": "inserted-material", "note": "A test change."})
    path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    assert run(project, "fmt") == 0


def test_the_ledger_reads_and_names_its_files():
    from peacetalks.reading.project import Project
    recorded = entries(Project(ROOT))
    for version, entry in recorded.items():
        assert entry.path.name == f"{version}.json" and len(entry.sources) == 64
        assert set(entry.configs) >= {"documents", "mentions", "ner"}
    assert list(recorded) == sorted(recorded, key=lambda v: tuple(map(int, v.split("."))))


def test_released_content_builds_as_its_version_other_content_as_a_development_version(project, tmp_path):
    last = latest(project)
    if last is None or sources_digest(project) != last.sources:
        pytest.skip("the checkout holds unreleased changes")
    assert build_version(project, last.version) == (last.version, last)
    add_flag(project)
    version, entry = build_version(project, last.version)
    assert entry is None and version.startswith(".".join(last.version.split(".")[:2]) + ".") and "-dev." in version
    rel = build(project, tmp_path / "dev")
    assert rel.version == version and json.loads((rel.path / "manifest.json").read_text())["version"] == version
    with pytest.raises(BuildError, match="already released with other content"):
        build(project, tmp_path / "forced", version=last.version)
    assert not (tmp_path / "forced").exists()


def test_a_released_version_is_never_cut_again(project, capsys):
    last = latest(project)
    if last is None:
        pytest.skip("nothing released yet")
    (project.root / "CHANGELOG.md").write_text((ROOT / "CHANGELOG.md").read_text("utf-8"), "utf-8")
    init = project.root / "src" / "peacetalks" / "__init__.py"
    init.parent.mkdir(parents=True)
    init.write_text(f'__version__ = "{last.version}"\n', "utf-8")
    before = (project.root / "CHANGELOG.md").read_text("utf-8")
    for version in entries(project):
        with pytest.raises(ReleaseError, match="already released|nothing changed"):
            plan(project, version)
        assert run(project, "release", version) == 1
    assert (project.root / "CHANGELOG.md").read_text("utf-8") == before  # never a second entry
    add_flag(project)
    with pytest.raises(ReleaseError, match="not after the last release"):
        plan(project, "0.0.1")


def test_a_damaged_ledger_entry_is_a_clear_error(project, capsys):
    last = latest(project)
    if last is None:
        pytest.skip("nothing released yet")
    (project.releases / "9.9.9.json").write_text(last.path.read_text("utf-8"), "utf-8")  # named for another version
    with pytest.raises(LedgerError, match="9.9.9.json: records version"):
        entries(project)
    (project.releases / "9.9.9.json").write_text("{", "utf-8")
    with pytest.raises(LedgerError, match="not a valid ledger entry"):
        entries(project)
    assert run(project, "build", "--out", str(project.root / "out")) == 1
    assert "9.9.9.json" in capsys.readouterr().err


def test_check_reports_unreleased_content_and_data_that_differs_from_its_record(project, capsys):
    last = latest(project)
    if last is None or sources_digest(project) != last.sources:
        pytest.skip("the checkout holds unreleased changes")
    assert run(project, "check", "--no-cache") == 0
    assert f"the data is what release {last.version} recorded" in capsys.readouterr().out
    record = json.loads(last.path.read_text("utf-8"))
    record["configs"]["mentions"]["content"] = "0" * 64  # as if the code now built other mentions
    last.path.write_text(json.dumps(record), "utf-8")
    assert run(project, "check", "--no-cache") == 1
    assert "the code now builds other data" in capsys.readouterr().out
    add_flag(project)
    assert run(project, "check", "--no-cache") == 0
    assert f"content changed since release {last.version}" in capsys.readouterr().out


@pytest.mark.skipif(not HAS_HISTORY, reason="needs this repository's git history")
def test_diff_reads_released_versions_from_their_commits(tmp_path):
    from peacetalks.reading.project import Project
    project = Project(ROOT)
    recorded = list(entries(project))
    if len(recorded) < 2:
        pytest.skip("needs two released versions")
    have = [v for v in recorded if subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e",
                                                   f"{entries(project)[v].commit}^{{commit}}"]).returncode == 0]
    if len(have) < 2:
        pytest.skip("a shallow clone: the released commits are not here")
    old, new = have[-2], have[-1]
    d = diff(snapshot(old, ROOT), snapshot(f"v{new}", ROOT))
    assert (d["old"]["version"], d["new"]["version"]) == (old, new) and d["bump"] is not None
    counts = entries(project)
    assert snapshot(new, ROOT).mentions.height == counts[new].counts["mentions"]
    assert snapshot(old, ROOT).mentions.height == counts[old].counts["mentions"]
