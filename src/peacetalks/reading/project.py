"""Where a corpus lives on disk: the folders of one project, seeds to annotations."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from ..diagnostics.problems import display

_MARKERS = ("schema/labels.json", "corpus", "annotations")
PACKAGE = Path(__file__).resolve().parents[1]  # the peacetalks package (this module is in reading/)
EMBEDDED = PACKAGE / "_data"  # where a wheel keeps the corpus it embeds (pyproject.toml, force-include)


def package_schema_dir() -> Path:
    """The JSON Schemas this package was built with (a checkout's schema/, or the wheel's copy)."""
    checkout = PACKAGE.parents[1] / "schema"
    return checkout if (checkout / "labels.json").is_file() else EMBEDDED / "schema"


class ProjectError(Exception):
    """The corpus root asked for is not a peacetalks project (a usage error: exit 2)."""


def _is_root(path: Path) -> bool:
    return all((path / m).exists() for m in _MARKERS)


@dataclass(frozen=True)
class Project:
    """The folders of a peacetalks corpus checkout (or of the data a wheel embeds).

    An embedded corpus is read-only: commands read it, but write their outputs to the
    current folder (``workdir``) and their cache to the user's cache folder, never under
    the installed package.
    """

    root: Path
    embedded: bool = False

    @property
    def workdir(self) -> Path:
        """Where default outputs go (``release/<version>``, ``site``): the checkout, or the current folder."""
        return Path.cwd() if self.embedded else self.root

    @property
    def cache_dir(self) -> Path:
        """``$PEACETALKS_CACHE_DIR``; else ``.peacetalks-cache`` in a checkout, the user's cache folder otherwise."""
        env = os.environ.get("PEACETALKS_CACHE_DIR")
        if env:
            return Path(env)
        if self.embedded:
            return Path(platformdirs.user_cache_dir("peacetalks")) / "embedded"
        return self.root / ".peacetalks-cache"

    def describe(self) -> str:
        """One line: which corpus a command works on."""
        root = display(str(self.root))  # (an odd path as reports show it)
        if self.embedded:
            return f"corpus: {root} (embedded in the installed package, read-only)"
        return f"corpus: {root}"

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def corpus(self) -> Path:
        return self.root / "corpus"

    @property
    def annotations(self) -> Path:
        return self.root / "annotations"

    @property
    def documents(self) -> Path:
        return self.annotations / "documents"

    def document_files(self, document: str) -> list[str]:
        """A document's files as reports name them (``rel``): its annotation file, its text and its metadata."""
        return [self.rel(self.documents / f"{document}.json"), self.rel(self.corpus / f"{document}.txt"),
                self.rel(self.corpus / f"{document}.json")]

    def document_of(self, path: str) -> str | None:
        """The document whose file ``path`` (as reports name it) is, one of ``document_files``; None for any other."""
        folder, _, name = path.rpartition("/")
        stem, _, suffix = name.rpartition(".")
        if (folder, suffix) in ((self.rel(self.documents), "json"), (self.rel(self.corpus), "txt"),
                                (self.rel(self.corpus), "json")):
            return stem
        return None

    @property
    def guidelines(self) -> Path:
        return self.annotations / "GUIDELINES.md"

    @property
    def entities(self) -> Path:
        return self.annotations / "entities.json"

    @property
    def xdoc_events(self) -> Path:
        return self.annotations / "xdoc-events.json"

    @property
    def layers(self) -> Path:
        return self.annotations / "layers.json"

    @property
    def agreement(self) -> Path:
        return self.annotations / "agreement.json"

    @property
    def allow(self) -> Path:
        return self.annotations / "allow.json"

    @property
    def releases(self) -> Path:
        """The release ledger: one file per released version (see ``ledger.py``)."""
        return self.annotations / "releases"

    @property
    def schema(self) -> Path:
        return self.root / "schema"

    def rel(self, path: Path | str) -> str:
        """A path as problems print it: relative to the root where possible, with '/'."""
        p = Path(path)
        try:
            return p.relative_to(self.root).as_posix()  # the common case, without touching the disk
        except ValueError:
            pass
        try:
            p = p.resolve().relative_to(self.root.resolve())
        except ValueError:
            pass
        return p.as_posix()

    @classmethod
    def find(cls, root: str | Path | None = None, start: Path | str | None = None) -> "Project":
        """The project to work on.

        An explicit ``root`` (``--root``), else ``$PEACETALKS_ROOT`` (empty: unset), must be a project
        folder itself: anything else raises ``ProjectError``, never a silent fallback.
        Without either: the folder ``start`` (default: the current directory) or its
        nearest parent that holds a corpus; the source checkout this package was imported
        from; the corpus embedded in an installed wheel (read-only).
        """
        for given, what in ((root, "--root"), (os.environ.get("PEACETALKS_ROOT") or None, "PEACETALKS_ROOT")):
            if given is None:
                continue
            if not str(given).strip():
                raise ProjectError(f"{what} is empty; give the folder of a peacetalks checkout")
            path = Path(given).expanduser().resolve()
            if not path.is_dir():
                raise ProjectError(f"{what} {given!r} does not exist or is not a folder")
            if not _is_root(path):
                raise ProjectError(f"{what} {given!r} is not a peacetalks project "
                                   f"(it needs {', '.join(_MARKERS)})")
            return cls(path, embedded=path == EMBEDDED.resolve())
        here = Path(start or Path.cwd()).resolve()
        for candidate in (here, *here.parents):
            if _is_root(candidate):
                return cls(candidate, embedded=candidate == EMBEDDED.resolve())
        checkout = PACKAGE.parents[1]
        if _is_root(checkout):
            return cls(checkout)
        if _is_root(EMBEDDED):
            return cls(EMBEDDED, embedded=True)
        raise ProjectError(f"no peacetalks corpus in {here} or its parents, and none embedded in the package; "
                           "run the command inside a checkout or give --root")
