"""reading/revisions.py: a git revision of the project unpacked into a folder, on every supported Python."""

from __future__ import annotations

import os
import subprocess
import tarfile

import pytest

from peacetalks.reading import revisions
from peacetalks.reading.revisions import (
    RevisionError,
    commit_of,
    extract_revision,
    is_revision,
)


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / "annotations" / "documents").mkdir(parents=True)
    (root / "annotations" / "documents" / "d1.json").write_text('{"document": "d1"}\n', "utf-8")
    (root / "README.md").write_text("first\n", "utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "one")
    (root / "README.md").write_text("second\n", "utf-8")
    _git(root, "commit", "-q", "-am", "two")
    return root


@pytest.fixture(params=["data filter", "no data filter"])
def python(request, monkeypatch):
    """This Python, and one before 3.11.4: no ``tarfile.data_filter``, and ``extractall`` without ``filter``."""
    if request.param == "no data filter":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
        real = tarfile.TarFile.extractall

        def old_extractall(self, path=".", members=None, *, numeric_owner=False, **more):
            if more:
                raise TypeError(f"TarFile.extractall() got an unexpected keyword argument {next(iter(more))!r}")
            return real(self, path, members, numeric_owner=numeric_owner)
        monkeypatch.setattr(tarfile.TarFile, "extractall", old_extractall)
    return request.param


@pytest.mark.parametrize("revision, readme", [("HEAD", "second\n"), ("HEAD~1", "first\n")])
def test_a_revision_is_unpacked_as_it_was_committed(repo, tmp_path, python, revision, readme):
    into = tmp_path / "out"
    into.mkdir()
    assert is_revision(repo, revision)
    extract_revision(repo, revision, into)
    assert (into / "README.md").read_text("utf-8") == readme
    assert (into / "annotations" / "documents" / "d1.json").read_text("utf-8") == '{"document": "d1"}\n'


@pytest.mark.parametrize("revision", ["no-such-branch", "HEAD~5", "0" * 40])
def test_what_is_no_revision_is_said_so(repo, tmp_path, revision):
    assert not is_revision(repo, revision)
    with pytest.raises(RevisionError, match="is not a git revision"):
        extract_revision(repo, revision, tmp_path)


def test_outside_a_repository_nothing_is_a_revision(tmp_path):
    assert not is_revision(tmp_path, "HEAD")
    assert commit_of(tmp_path, "HEAD") is None


@pytest.mark.parametrize("revision", ["HEAD", "HEAD~1", "the branch"])
def test_a_revision_names_its_commit(repo, revision):
    if revision == "the branch":
        revision = subprocess.run(["git", "-C", str(repo), "branch", "--show-current"], capture_output=True,
                                  text=True).stdout.strip()
    expected = subprocess.run(["git", "-C", str(repo), "rev-parse", revision], capture_output=True,
                              text=True).stdout.strip()
    assert len(expected) == 40 and commit_of(repo, revision) == expected


def test_without_git_nothing_is_a_revision(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert commit_of(repo, "HEAD") is None and not is_revision(repo, "HEAD")
    with pytest.raises(RevisionError):
        extract_revision(repo, "HEAD", tmp_path)


@pytest.mark.parametrize("target", ["README.md", "/etc/passwd", "../../outside"])
def test_a_committed_link_is_refused_and_nothing_is_unpacked(repo, tmp_path, python, target):
    """A link is refused wherever it points (inside the tree too), on every Python, before any file is written."""
    os.symlink(target, repo / "link")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "link")
    into = tmp_path / "out"
    into.mkdir()
    with pytest.raises(RevisionError, match="'link' is not a plain file or folder"):
        extract_revision(repo, "HEAD", into)
    assert list(into.iterdir()) == []


@pytest.mark.parametrize("name, kind", [
    ("/etc/x", tarfile.REGTYPE), ("../x", tarfile.REGTYPE), ("a/../../x", tarfile.REGTYPE),
    ("a", tarfile.SYMTYPE), ("a", tarfile.LNKTYPE), ("a", tarfile.CHRTYPE), ("a", tarfile.FIFOTYPE),
])
def test_members_that_would_leave_the_folder_or_are_not_plain_are_refused(name, kind):
    member = tarfile.TarInfo(name)
    member.type = kind
    with pytest.raises(tarfile.TarError):
        revisions._check(member)


@pytest.mark.parametrize("name, kind", [("a", tarfile.REGTYPE), ("a/b.json", tarfile.REGTYPE), ("a", tarfile.DIRTYPE),
                                        ("a/./b", tarfile.REGTYPE)])
def test_plain_files_and_folders_inside_are_kept(name, kind):
    member = tarfile.TarInfo(name)
    member.type = kind
    revisions._check(member)
