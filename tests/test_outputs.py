"""Commands replace only what they made: a release with its manifest, a site with its marker.
Anything else at --out is left untouched and the command refuses (exit 2)."""

import os
import stat

import pytest

from peacetalks.cli import main


def notes(folder):
    folder.mkdir()
    (folder / "todo.txt").write_text("my notes", "utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "more.md").write_text("more", "utf-8")
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def same(folder, before):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def run(project, *args):
    return main(["--root", str(project.root), *args])


@pytest.mark.parametrize("args", [["view", "--out"], ["build", "--out"], ["build", "--force", "--out"],
                                  ["build", "--site", "--force", "--out"]])
def test_a_folder_of_notes_is_never_replaced(project, tmp_path, capsys, args):
    folder = tmp_path / "notes"
    before = notes(folder)
    assert run(project, *args, str(folder)) == 2
    err = capsys.readouterr().err
    assert str(folder) in err and "--force" not in err.split("error:", 1)[1]
    assert same(folder, before)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".notes")] == []  # no temporary left


@pytest.mark.parametrize("command", ["view", "build"])
def test_a_file_or_symlink_at_out_is_refused(project, tmp_path, capsys, command):
    target = tmp_path / "a-file"
    target.write_text("keep", "utf-8")
    assert run(project, command, "--out", str(target)) == 2
    link = tmp_path / "link"
    notes(tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", link)
    assert run(project, command, "--out", str(link)) == 2
    assert target.read_text("utf-8") == "keep" and (tmp_path / "elsewhere" / "todo.txt").exists()


def test_view_replaces_its_own_site_and_an_empty_folder(project, tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    assert run(project, "view", "--out", str(out)) == 0
    (out / "index.html").write_text("stale", "utf-8")
    assert run(project, "view", "--out", str(out)) == 0
    assert (out / "index.html").read_text("utf-8") != "stale"


def test_view_refuses_a_release_folder(project, tmp_path):
    out = tmp_path / "rel"
    assert run(project, "build", "--out", str(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert run(project, "view", "--out", str(out)) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_build_replaces_its_own_release_only_with_force(project, tmp_path, capsys):
    out = tmp_path / "rel"
    assert run(project, "build", "--out", str(out)) == 0
    assert run(project, "build", "--out", str(out)) == 0  # identical: nothing to do
    capsys.readouterr()
    (out / "README.md").write_text("edited", "utf-8")
    assert run(project, "build", "--out", str(out)) == 1
    assert "--force" in capsys.readouterr().err  # a release it made: replacing it is offered
    assert (out / "README.md").read_text("utf-8") == "edited"
    assert run(project, "build", "--force", "--out", str(out)) == 0
    assert (out / "README.md").read_text("utf-8") != "edited"


def test_outputs_follow_the_umask(project, tmp_path):
    old = os.umask(0o022)
    try:
        assert run(project, "build", "--site", "--out", str(tmp_path / "rel")) == 0
        assert run(project, "view", "--out", str(tmp_path / "site")) == 0
    finally:
        os.umask(old)
    for root in (tmp_path / "rel", tmp_path / "site"):
        for p in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(p.stat().st_mode)
            assert mode == (0o755 if p.is_dir() else 0o644), (p, oct(mode))
