"""The one place that turns a position into ``line:column`` (1-based; columns count characters).

Problems are reported as ``path:line:col``: a code point offset into a text
(``text_position``), a byte offset into a file that may not decode (``byte_position``), or a
JSON pointer into a JSON file (``Locator``, which maps a file once, and only when a problem
needs it).
"""

from __future__ import annotations

from pathlib import Path

from json_source_map import calculate as source_map


def text_position(text: str, offset: int) -> tuple[int, int]:
    """Line and column of a code point offset into ``text``."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """Line and column (in characters, undecodable bytes counting one each) of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(data[line_start:offset].decode("utf-8", "replace")) + 1


class Locator:
    """Line and column of JSON pointers in files, computed only when a problem needs them."""

    def __init__(self) -> None:
        self._maps: dict[Path, dict] = {}

    def locate(self, path: Path, pointer: str, key: bool = False) -> tuple[int, int]:
        if path not in self._maps:
            try:
                self._maps[path] = source_map(path.read_text("utf-8"))
            except Exception:  # noqa: BLE001 - an unreadable file still gets a location
                self._maps[path] = {}
        mapping = self._maps[path]
        while pointer and pointer not in mapping:
            pointer = pointer.rsplit("/", 1)[0]
        entry = mapping.get(pointer)
        if entry is None:
            return 1, 1
        loc = entry.key_start if key and entry.key_start else entry.value_start
        return loc.line + 1, loc.column + 1
