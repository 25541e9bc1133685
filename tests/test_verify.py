"""verify: a release proves what it claims, and never reads outside itself; publish refuses what verify refuses."""

import hashlib
import json
import shutil

import pytest

from peacetalks.cli import main
from peacetalks.release.build import build
from peacetalks.release.versions import ReleaseError, publish, verify


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import copy_checkout
    root = tmp_path_factory.mktemp("checkout")
    project = copy_checkout(root)
    return build(project, root / "rel").path


@pytest.fixture
def rel(built, tmp_path):
    copy = tmp_path / "rel"
    shutil.copytree(built, copy)
    return copy


def rewrite(path, change):
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), "utf-8")


def rehash(rel, name):
    """Tamper consistently: record the changed file's new digest in the manifest, as a careful forger would."""
    def change(m):
        data = (rel / name).read_bytes()
        m["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    rewrite(rel / "manifest.json", change)


def codes(rel):
    return sorted({p.code for p in verify(rel)})


def refused(rel):
    with pytest.raises(ReleaseError, match="refusing to publish"):
        publish(rel, "peacetalks/peacetalks", dry_run=True)
    return True


def test_an_untouched_release_verifies(rel):
    assert verify(rel) == []


@pytest.mark.parametrize("change", [
    lambda m: m.update(version="9.9.9"),
    lambda m: m["configs"]["mentions"].update(rows=m["configs"]["mentions"]["rows"] + 1),
    lambda m: m["counts"].update(documents=m["counts"]["documents"] + 1),
    lambda m: m["configs"].pop("ner"),
    lambda m: m.update(counts={}),  # (found by the fuzzing: a manifest that states no counts)
    lambda m: m["counts"].pop("tokens"),
    lambda m: m["counts"].pop("documents"),
])
def test_a_manifest_that_lies_is_caught(rel, change):
    rewrite(rel / "manifest.json", change)
    assert "V006" in codes(rel) and refused(rel)


def test_a_manifest_of_another_shape_is_not_a_manifest(rel):
    rewrite(rel / "manifest.json", lambda m: m.update(counts=[1, 2]))
    assert codes(rel) == ["V004"] and refused(rel)


def test_croissant_and_card_that_disagree_are_caught(rel):
    rewrite(rel / "croissant.json", lambda c: c.update(version="0.0.1"))
    rehash(rel, "croissant.json")
    assert codes(rel) == ["V006"] and refused(rel)


def test_a_card_with_other_counts_is_caught(rel):
    card = (rel / "README.md").read_text("utf-8")
    manifest = json.loads((rel / "manifest.json").read_text("utf-8"))
    n = manifest["configs"]["documents"]["rows"]
    (rel / "README.md").write_text(card.replace(f"num_examples: {n}\n", f"num_examples: {n + 7}\n", 1), "utf-8")
    rehash(rel, "README.md")
    assert codes(rel) == ["V006"] and refused(rel)


@pytest.mark.parametrize("name", ["../secret.txt", "/etc/hostname", "data/../../secret.txt", "a\\..\\b", "", "./README.md"])
def test_manifest_paths_outside_the_release_are_errors_and_never_read(rel, tmp_path, name):
    (tmp_path / "secret.txt").write_text("secret", "utf-8")
    digest = hashlib.sha256(b"secret").hexdigest()
    rewrite(rel / "manifest.json", lambda m: m["files"].update({name: {"sha256": digest, "bytes": 6}}))
    assert "V005" in codes(rel) and refused(rel)


def test_links_in_a_release_are_errors(rel, tmp_path):
    (tmp_path / "outside").write_text("x", "utf-8")
    readme = rel / "README.md"
    data = readme.read_bytes()
    readme.unlink()
    (tmp_path / "card.md").write_bytes(data)
    readme.symlink_to(tmp_path / "card.md")  # same bytes, but through a link
    assert "V005" in codes(rel) and refused(rel)


def test_verify_cli_names_what_disagrees(rel, capsys):
    rewrite(rel / "manifest.json", lambda m: m.update(version="9.9.9"))
    assert main(["verify", str(rel)]) == 1
    out = capsys.readouterr().out
    assert "V006" in out and "croissant.json" in out and "9.9.9" in out
