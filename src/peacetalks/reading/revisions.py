"""A git revision of the project, as a folder: what `peacetalks diff` and `peacetalks agreement` read
when they are given a revision instead of a folder.

One reader for both: ``git archive`` of the revision, unpacked into a folder the caller owns. Only
plain files and folders inside that folder are written, on every Python the package supports: each
member is checked before anything is unpacked (a name that is absolute or climbs out with ``..``,
a link, a device is refused, an error naming it), and tarfile's ``data`` filter is applied too
where this Python has it (3.11.4 and later; before, ``extractall`` has no ``filter``).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path, PurePosixPath


class RevisionError(Exception):
    """The revision cannot be read (not a revision of this repository, no git, or an unsafe archive)."""


def commit_of(root: Path, revision: str) -> str | None:
    """The id of the commit that ``revision`` names in the git repository at ``root``; None if it names
    none there (or ``root`` is in no repository, or there is no git)."""
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                              capture_output=True, text=True)
    except FileNotFoundError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def is_revision(root: Path, revision: str) -> bool:
    """Whether ``revision`` names a commit of the git repository at ``root``."""
    return commit_of(root, revision) is not None


def extract_revision(root: Path, revision: str, into: Path) -> None:
    """The files of ``revision`` (a commit of the repository at ``root``) written into the folder ``into``."""
    try:
        archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", revision],
                                 check=True, capture_output=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        raise RevisionError(f"{revision!r} is not a git revision of {root}") from None
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            members = tar.getmembers()
            for member in members:  # (every member first: a refused one leaves nothing unpacked)
                _check(member)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, members=members, filter="data")
            else:  # (Python before 3.11.4: extractall has no filter)
                tar.extractall(into, members=members)
    except (tarfile.TarError, OSError) as e:
        raise RevisionError(f"cannot unpack {revision!r}: {e}") from None


def _check(member: tarfile.TarInfo) -> None:
    """What tarfile's ``data`` filter refuses, for a Python without it (only plain files and folders)."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise tarfile.TarError(f"{member.name!r} would be written outside the folder")
    if not (member.isfile() or member.isdir()):
        raise tarfile.TarError(f"{member.name!r} is not a plain file or folder")
