"""What every check needs: the project, its labels and schemas, and one way to place a problem.

A check finds a row in a table or a place in a file; ``Context.at`` turns (document,
JSON pointer) into ``path:line:col`` through the one ``Locator`` of the run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics.locate import Locator
from ..diagnostics.problems import Problem
from ..model.labels import Labels
from ..model.schemas import Schemas
from ..reading.project import Project


@dataclass
class Context:
    project: Project
    labels: Labels
    schemas: Schemas
    locator: Locator = field(default_factory=Locator)

    def at(self, document: str, pointer: str, code: str, message: str, hint: str | None = None,
           key: bool = False) -> Problem:
        path = self.project.documents / f"{document}.json"
        return Problem(self.project.rel(path), *self.locator.locate(path, pointer, key), code, message, hint)

    def at_file(self, path: Path, pointer: str, code: str, message: str, hint: str | None = None) -> Problem:
        return Problem(self.project.rel(path), *self.locator.locate(path, pointer), code, message, hint)


def close_match(value: str, options, what: str) -> str | None:
    match = difflib.get_close_matches(value, list(options), n=1, cutoff=0.6)
    return f"did you mean {what} {match[0]!r}?" if match else None
