"""Releases: verify against the manifest, semantic diff, version rules with CHANGELOG, publish --dry-run."""

import json
import shutil
import subprocess

import pytest

from peacetalks.cli import main
from peacetalks.reading.files import dump_records
from peacetalks.release.versions import (
    ReleaseError,
    diff,
    plan,
    publish,
    snapshot,
    verify,
)

D000 = "000_4d90cd6c48df9336"


@pytest.fixture
def repo(project):
    """The corpus checkout copy with its version file, as a maintainer of a new corpus has it (no release yet)."""
    shutil.rmtree(project.releases, ignore_errors=True)
    init = project.root / "src" / "peacetalks" / "__init__.py"
    init.parent.mkdir(parents=True)
    init.write_text('"""peacetalks"""\n\n__version__ = "0.1.0"\n', "utf-8")
    return project


def run(project, *args):
    return main(["--root", str(project.root), *args])


def add_mention(project):
    """A new nominal mention of a new entity: "European nations" in 000, a single passing mention that
    GUIDELINES §2.2 leaves unannotated (so adding it is an addition whatever else the corpus holds)."""
    path = project.documents / f"{D000}.json"
    data = json.loads(path.read_text("utf-8"))
    assert not any(m["text"] == "European nations" for m in data["mentions"])
    data["mentions"].append({"text": "European nations", "type": "GPE", "level": "NOM", "entity": "coalition-nations"})
    path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    registry = json.loads(project.entities.read_text("utf-8"))
    registry["entities"].append({"id": "coalition-nations", "name": "European nations in the coalition of the willing",
                                 "type": "GPE", "wikidata": None, "aliases": []})
    project.entities.write_bytes(dump_records(registry, ("entities",)))
    assert run(project, "fmt") == 0


def retype_first(project, text, new_type, new_entity):
    path = project.documents / f"{D000}.json"
    data = json.loads(path.read_text("utf-8"))
    m = next(m for m in data["mentions"] if m["text"] == text)
    m.update(type=new_type, entity=new_entity)
    path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))


def test_two_releases_in_a_row_write_a_correct_changelog(repo, capsys):
    assert run(repo, "release", "0.1.0", "--date", "2026-11-01") == 0
    assert (repo.root / "release" / "0.1.0" / "manifest.json").is_file()
    assert verify(repo.root / "release" / "0.1.0") == []

    add_mention(repo)
    capsys.readouterr()
    assert run(repo, "release", "0.1.1", "--date", "2026-11-02") == 1  # new annotations are not a patch
    assert "is a minor change, so the release is 0.2.0, not 0.1.1" in capsys.readouterr().err
    assert not (repo.root / "release" / "0.1.1").exists()
    assert run(repo, "release", "0.2.0", "--date", "2026-11-02") == 0
    assert '__version__ = "0.2.0"' in (repo.root / "src" / "peacetalks" / "__init__.py").read_text("utf-8")
    manifest = json.loads((repo.root / "release" / "0.2.0" / "manifest.json").read_text("utf-8"))
    assert manifest["version"] == "0.2.0"

    changelog = (repo.root / "CHANGELOG.md").read_text("utf-8")
    assert changelog.index("## 0.2.0 (2026-11-02)") < changelog.index("## 0.1.0 (2026-11-01)")
    entry = changelog[changelog.index("## 0.2.0"):changelog.index("## 0.1.0")]
    assert "Changes from 0.1.0 (minor change)." in entry
    assert "| mentions | +1 | -0 | ~0 | added GPE 1 |" in entry
    assert "- added: `coalition-nations`" in entry
    assert "events" not in entry.split("### Annotations")[1].split("###")[0]

    # a correction is a patch; relinking is reported as such
    retype_first(repo, "Kiev", "GPE", "kyiv-city")
    registry = json.loads(repo.entities.read_text("utf-8"))
    registry["entities"].append({"id": "kyiv-city", "name": "Kyiv (city)", "type": "GPE", "wikidata": None,
                                 "aliases": []})
    repo.entities.write_bytes(dump_records(registry, ("entities",)))
    with pytest.raises(ReleaseError, match="is a minor change"):  # a new registry entity is an addition
        plan(repo, "0.2.1", date="2026-11-03")
    cut = plan(repo, "0.3.0", date="2026-11-03")
    assert "- split `ukraine` into `kyiv-city`, `ukraine` (1 mentions moved)" in cut.entry


def test_a_pure_correction_is_a_patch(repo):
    assert run(repo, "release", "0.1.0", "--date", "2026-11-01") == 0
    retype_first(repo, "Kremlin", "GPE", "russia")
    with pytest.raises(ReleaseError, match="patch change, so the release is 0.1.1, not 0.2.0"):
        plan(repo, "0.2.0")
    cut = plan(repo, "0.1.1", date="2026-11-05")
    assert "| mentions | +0 | -0 | ~1 | changed type 1, entity 1 |" in cut.entry


def test_removing_a_label_is_breaking(repo):
    assert run(repo, "release", "0.1.0", "--date", "2026-11-01") == 0
    labels = repo.schema / "labels.json"
    data = json.loads(labels.read_text("utf-8"))
    data["$defs"]["TimexType"]["oneOf"] = [o for o in data["$defs"]["TimexType"]["oneOf"] if o["const"] != "TIME"]
    labels.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    with pytest.raises(ReleaseError, match="major change, so the release is 1.0.0"):
        plan(repo, "0.2.0")
    assert "removed `TIME`" in plan(repo, "1.0.0", date="2026-11-06").entry


def test_nothing_to_release_is_refused(repo):
    assert run(repo, "release", "0.1.0", "--date", "2026-11-01") == 0
    with pytest.raises(ReleaseError, match="nothing changed"):
        plan(repo, "0.1.1")


def test_a_tampered_release_fails_verify_and_is_not_published(repo, tmp_path, capsys):
    assert run(repo, "build", "--out", str(tmp_path / "rel")) == 0
    rel = tmp_path / "rel"
    assert run(repo, "verify", str(rel)) == 0
    capsys.readouterr()
    assert run(repo, "publish", str(rel), "--repo-id", "peacetalks/peacetalks", "--dry-run") == 0
    out = capsys.readouterr().out
    files = sorted(p.relative_to(rel).as_posix() for p in rel.rglob("*") if p.is_file())
    version = json.loads((rel / "manifest.json").read_text("utf-8"))["version"]
    assert all(f in out for f in files) and f"tag v{version}" in out and "sha256" in out

    parquet = next(rel.glob("data/mentions/*.parquet"))
    data = bytearray(parquet.read_bytes())
    data[100] ^= 0xFF
    parquet.write_bytes(bytes(data))
    (rel / "README.md").unlink()
    (rel / "notes.txt").write_text("not part of the release")
    codes = {(p.code, p.path) for p in verify(rel)}
    assert codes == {("V001", parquet.relative_to(rel).as_posix()), ("V002", "README.md"), ("V003", "notes.txt")}
    assert run(repo, "verify", str(rel)) == 1
    capsys.readouterr()
    assert run(repo, "publish", str(rel), "--repo-id", "peacetalks/peacetalks", "--dry-run") == 1
    assert "refusing to publish" in capsys.readouterr().err


def test_publish_needs_a_token_and_checks_the_repo_id(repo, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    assert run(repo, "build", "--out", str(tmp_path / "rel")) == 0
    with pytest.raises(ReleaseError, match="set HF_TOKEN"):
        publish(tmp_path / "rel", "peacetalks/peacetalks")
    with pytest.raises(ReleaseError, match="ORG/NAME"):
        publish(tmp_path / "rel", "not a repo id", dry_run=True)


def test_verify_a_folder_that_is_no_release(tmp_path):
    [p] = verify(tmp_path)
    assert p.code == "V004"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_between_git_revisions_and_folders(repo, tmp_path, capsys):
    git = ["git", "-C", str(repo.root), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    retype_first(repo, "Kremlin", "GPE", "russia")
    d = diff(snapshot("HEAD", repo.root), snapshot(str(repo.root), repo.root))
    assert d["bump"] == "patch" and d["layers"]["mentions"]["changed"] == 1
    assert d["entities"]["relinked"] == [{"from": "kremlin", "to": "russia", "mentions": 1}]
    capsys.readouterr()
    assert run(repo, "diff", "HEAD", str(repo.root), "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["bump"] == "patch"
    assert run(repo, "diff", "no-such-rev", str(repo.root)) == 2
    assert "neither a release folder" in capsys.readouterr().err


def test_a_schema_version_change_is_in_the_changelog(repo):
    assert run(repo, "release", "0.1.0", "--date", "2026-11-01") == 0
    labels = repo.schema / "labels.json"
    data = json.loads(labels.read_text("utf-8"))
    old = data["x-schema-version"]
    data["x-schema-version"] = "9.0.0"
    labels.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    add_mention(repo)
    entry = plan(repo, "0.2.0", date="2026-11-07").entry
    assert f"- schema version {old} → 9.0.0" in entry
