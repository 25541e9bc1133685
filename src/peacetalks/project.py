"""Where a corpus lives on disk: the folders of one project, seeds to annotations."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_MARKERS = ("schema/labels.json", "corpus", "annotations")


def _is_root(path: Path) -> bool:
    return all((path / m).exists() for m in _MARKERS)


@dataclass(frozen=True)
class Project:
    """The folders of a peacetalks corpus checkout (or of the data a wheel embeds)."""

    root: Path

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
    def allow(self) -> Path:
        return self.annotations / "allow.json"

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
    def find(cls, start: Path | str | None = None) -> "Project":
        """The project to work on.

        In order: ``$PEACETALKS_ROOT``; the folder ``start`` (default: the current
        directory) or its nearest parent that holds a corpus; the source checkout this
        package was imported from; the corpus embedded in an installed wheel.
        """
        env = os.environ.get("PEACETALKS_ROOT")
        if env:
            return cls(Path(env).resolve())
        here = Path(start or Path.cwd()).resolve()
        for candidate in (here, *here.parents):
            if _is_root(candidate):
                return cls(candidate)
        package = Path(__file__).resolve().parent
        checkout = package.parents[1]
        if _is_root(checkout):
            return cls(checkout)
        embedded = package / "_data"
        if _is_root(embedded):
            return cls(embedded)
        return cls(here)
