"""The one record every check returns, and the ways it is printed."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Iterable

from .rules import RULES, Severity


@dataclass(frozen=True, order=True)
class Problem:
    """One problem at one place: ``path:line:col: CODE message`` (line and column 1-based)."""

    path: str
    line: int
    column: int
    code: str
    message: str
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.code not in RULES:  # a programming error, not bad input
            raise ValueError(f"undocumented problem code {self.code}")
        for name in ("path", "message", "hint"):  # (an odd file name must not break the report: ``display``)
            value = getattr(self, name)
            if value is not None and not value.isprintable() and display(value) != value:
                object.__setattr__(self, name, display(value))

    @property
    def severity(self) -> Severity:
        return RULES[self.code].severity

    def render(self) -> str:
        head = f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}"
        return head + (f"\n    hint: {self.hint}" if self.hint else "")

    def to_dict(self) -> dict:
        return {**asdict(self), "severity": self.severity, "rule": RULES[self.code].name}

    def to_github(self) -> str:
        """A GitHub Actions workflow command, so the problem shows on the changed line."""
        kind = "error" if self.severity == "error" else "warning"
        text = self.message + (f" (hint: {self.hint})" if self.hint else "")
        return (
            f"::{kind} file={_gh_prop(self.path)},line={self.line},col={self.column},"
            f"title={self.code} {RULES[self.code].name}::{_gh_data(text)}"
        )


def is_utf8(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8: not a file name with bytes that are not (``printable``)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def printable(text: str) -> str:
    """``text`` as it can be written out in UTF-8: the bytes of a file name that are not UTF-8 (which Python
    keeps as lone surrogates, ``os.fsdecode``) as ``\\xNN``, any other lone surrogate as ``\\udNNN``."""
    if is_utf8(text):
        return text
    return text.encode("utf-8", "surrogateescape" if _escaped_bytes(text) else "backslashreplace") \
        .decode("utf-8", "backslashreplace")


#: what would break a report's line or act in a terminal: control characters, line and paragraph separators
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def display(text: str) -> str:
    """``text`` as a report shows it: ``printable``, on one line and inert in a terminal (a file name with a
    newline or an escape sequence: control characters written as ``repr`` writes them, ``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], printable(text))


def quoted(name: str) -> str:
    """A name in a message, quoted as ``repr`` quotes it, but a file name's bytes that are not UTF-8 as ``\\xNN``."""
    text = printable(name)
    return repr(name) if text == name else f"'{text}'"


def _escaped_bytes(text: str) -> bool:
    """Whether every lone surrogate of ``text`` stands for a byte (U+DC80-U+DCFF: ``surrogateescape``)."""
    return all("\udc80" <= c <= "\udcff" for c in text if "\ud800" <= c <= "\udfff")


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


CAUSES_FIRST = ("D",)  # seeds and drift: a broken source explains the problems after it


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """By file and place, with problems of the sources (seeds, drift) before all others."""
    return sorted(set(problems), key=lambda p: (not p.code.startswith(CAUSES_FIRST), p))


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def render(problems: list[Problem], fmt: str = "text") -> str:
    """All problems in one of the output formats: text, json, github."""
    if fmt == "json":
        return json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(p.to_github() for p in problems)
    n_err = len(errors(problems))
    n_warn = len(problems) - n_err
    lines = [p.render() for p in problems]
    lines.append(
        f"Found {n_err} error{'s' * (n_err != 1)} and {n_warn} warning{'s' * (n_warn != 1)}."
        if problems else "No problems found."
    )
    return "\n".join(lines)
