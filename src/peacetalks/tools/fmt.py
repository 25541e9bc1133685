"""``peacetalks fmt``: canonical formatting of every hand-curated file, like black.

It also rewrites the label tables of annotations/GUIDELINES.md from schema/labels.json (the
blocks between ``<!-- labels:<Inventory> -->`` markers), so that the guidelines cite the
one source of the label definitions and ``fmt --check`` fails when they drift apart.

Canonical form, so that diffs show one changed annotation per changed line:

- UTF-8 without BOM, LF line endings, one record per line inside each list
  (``files.dump_records``), keys in the order of the schema (unknown keys kept, last);
- annotations sorted by position (mentions by start, then longest first; events by
  trigger; quotes by content; flags by span), registries by id; ids are never changed.

Contributors need not count characters: a span may be written by its text alone, with
``occurrence`` (1-based, default 1) when the text occurs more than once, and ``fmt``
fills in ``start`` and ``end`` (word-bounded matches first). A mention, event or quote
without an ``id`` gets the next free one (``m12``, ``e4``, ``q3``).

``--check`` writes nothing, lists the files it would change with a unified diff, and
exits 1 if there are any; problems (a file that does not parse, a span text that does
not occur) are reported as ``path:line:col: CODE message`` and also exit 1.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from json_source_map import calculate as source_map

from ..defaults import MAX_JSON_BYTES
from ..diagnostics.locate import Locator, text_position
from ..diagnostics.problems import Problem, display
from ..model.labels import Labels, refresh_guidelines
from ..model.layers import LAYER_TABLE, LAYERS
from ..reading.files import (
    atomic_write,
    dump_records,
    listing,
    read_bytes,
    read_text_file,
    structure_problem,
)
from ..reading.project import Project

DOC_LISTS = LAYERS
ORDER = {
    "document": ["document", *LAYERS],
    **{layer.item: list(layer.keys) for layer in LAYER_TABLE},
    "argument": ["role", "mention"],
    "span": ["start", "end", "text"],
    "entity": ["id", "name", "type", "wikidata", "wikidata_checked", "aliases"],
    "check": ["wikidata", "date", "label"],
    "xdoc": ["id", "name", "description", "date"],
    "allow": ["code", "path", "contains", "reason"],
}


@dataclass
class Formatted:
    path: Path
    shown: str
    before: bytes
    after: bytes | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.after is not None and self.after != self.before

    def diff(self) -> str:
        old = self.before.decode("utf-8", "replace").splitlines(keepends=True)
        new = (self.after or b"").decode("utf-8").splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{self.shown}", f"b/{self.shown}"))


def _ordered(record, kind: str):
    if not isinstance(record, dict):
        return record
    keys = ORDER[kind]
    out = {k: record[k] for k in keys if k in record}
    out.update({k: v for k, v in record.items() if k not in out})
    return out


def _pos(span) -> tuple[int, int]:
    if isinstance(span, dict) and isinstance(span.get("start"), int) and isinstance(span.get("end"), int):
        return span["start"], span["end"]
    return -1, -1


def _places(text: str, needle: str) -> list[int]:
    """Where needle occurs: its word-bounded occurrences, or every occurrence if it has none.

    ``occurrence`` in a span and the numbers ``peacetalks locate`` prints count these.
    """
    bounded = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", text)]
    return bounded or [m.start() for m in re.finditer(re.escape(needle), text)]


def _find(text: str, needle: str, occurrence: int) -> int | None:
    """Start of the n-th (1-based) occurrence of needle."""
    places = _places(text, needle)
    return places[occurrence - 1] if 0 < occurrence <= len(places) else None


def occurrences(text: str, needle: str, width: int = 30) -> list[tuple[int, int, int, str]]:
    """Every occurrence of needle in a text: (start, line, column, context with the match in [brackets])."""
    out = []
    for s in _places(text, needle):
        e = s + len(needle)
        line, col = text_position(text, s)
        left = text[max(0, s - width):s].replace("\n", " ")
        right = text[e:e + width].replace("\n", " ")
        out.append((s, line, col, f"…{left}[{text[s:e]}]{right}…"))
    return out


@dataclass
class _Pending:
    """A problem with a span, placed once the file's final form is known (``fmt`` reports positions
    in the file as it wrote it)."""

    span: dict
    code: str
    message: str
    hint: str | None
    pointer: str  # in the file as it was read


class _Filler:
    """Fills in the offsets of spans written by their text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pending: list[_Pending] = []
        self.resolved: dict[int, int | None] = {}  # id() of each span filled from its text -> its occurrence

    def __call__(self, span, pointer: str):
        if not isinstance(span, dict):
            return span
        occurrence = span.pop("occurrence", None)
        if "start" in span and "end" in span:
            return _ordered(span, "span")
        needle = span.get("text")
        if not isinstance(needle, str) or not needle:
            return _ordered(span, "span")
        n = occurrence if isinstance(occurrence, int) else 1
        at = _find(self.text, needle, n)
        if at is None:
            count = len(_places(self.text, needle))
            hint = (f"it occurs {count} time{'s' * (count != 1)}; give 'occurrence' between 1 and {count}" if count
                    else "copy the text exactly from corpus/ (quotation marks and apostrophes included)")
            span["occurrence"] = occurrence if occurrence is not None else 1
            self.pending.append(_Pending(span, "T005", f"span text {needle!r} (occurrence {n}) does not occur "
                                                       "in the document", hint, pointer))
            return span
        filled = _ordered({"start": at, "end": at + len(needle), **span}, "span")
        self.resolved[id(filled)] = occurrence
        return filled

    def moved(self, old: dict, new: dict) -> None:
        """``old`` (a filled span) is now the record ``new``: keep following it."""
        if id(old) in self.resolved:
            self.resolved[id(new)] = self.resolved.pop(id(old))
        for p in self.pending:
            if p.span is old:
                p.span = new

    def check_taken(self, records: list, part: str | None, layer: str) -> None:
        """T009: a span filled from its text that another annotation of the layer already has, which
        is the wrong occurrence far more often than a double annotation; it is left unfilled."""
        def span_of(r):
            return r.get(part) if part else r
        seen: dict[tuple[int, int], str] = {}
        for r in records:  # spans written with offsets first: they are what the annotator placed
            sp = span_of(r) if isinstance(r, dict) else None
            if isinstance(sp, dict) and id(sp) not in self.resolved and _pos(sp) != (-1, -1):
                seen.setdefault(_pos(sp), str(r.get("id") or r.get("code")))
        for i, r in enumerate(records):
            sp = span_of(r) if isinstance(r, dict) else None
            if not isinstance(sp, dict) or id(sp) not in self.resolved:
                continue
            key = (sp["start"], sp["end"])
            if key not in seen:
                seen[key] = str(r.get("id"))
                continue
            occurrence = self.resolved.pop(id(sp))
            count = len(_places(self.text, sp["text"]))
            n = occurrence if isinstance(occurrence, int) else 1
            sp.pop("start"), sp.pop("end")
            sp["occurrence"] = n
            self.pending.append(_Pending(sp, "T009",
                f"{layer[:-1]} {r.get('id')} {sp['text']!r} (occurrence {n}) resolves to [{key[0]}, {key[1]}), "
                f"which {seen[key]} already covers",
                f"it occurs {count} time{'s' * (count != 1)}; give the 'occurrence' you mean" if count > 1 else
                f"annotate it once: remove {r.get('id')} or {seen[key]}", f"/{layer}/{i}" + (f"/{part}" if part else "")))


def _next_ids(records: list, prefix: str) -> None:
    used = [int(r["id"][len(prefix):]) for r in records
            if isinstance(r, dict) and isinstance(r.get("id"), str) and re.fullmatch(prefix + r"\d+", r["id"])]
    n = max(used, default=0)
    for r in records:
        if isinstance(r, dict) and "id" not in r:
            n += 1
            r["id"] = f"{prefix}{n}"


def _sort_key(key: str):
    def position(r) -> tuple:
        if not isinstance(r, dict):
            return (-2, 0, "", "")
        if key == "mentions":
            start, end = _pos(r)
            return (start, -end, str(r.get("type")), str(r.get("id")))
        span = {"events": "trigger", "quotes": "content", "flags": "span"}[key]
        return (*_pos(r.get(span)), str(r.get("type") or r.get("code") or ""), str(r.get("id")))
    return position


def format_document(data: dict, filler: _Filler | None) -> dict:
    """The canonical form of one document's annotations (offsets filled where the text allows)."""
    def fill(span, pointer):
        if filler is not None:
            return filler(span, pointer)
        return _ordered(span, "span") if isinstance(span, dict) else span

    out = _ordered(data, "document")
    for layer in LAYER_TABLE:
        key = layer.name
        items = out.get(key)
        if not isinstance(items, list):
            continue
        if layer.id_prefix:
            _next_ids(items, layer.id_prefix)
        for i, r in enumerate(items):
            if not isinstance(r, dict):
                continue
            if layer.spans[0].key is None:  # the item is itself a span (mentions)
                filled = fill(r, f"/{key}/{i}")
                items[i] = _ordered(filled, layer.item)
                if filler is not None:
                    filler.moved(filled, items[i])
                continue
            r = _ordered(r, layer.item)
            for part in layer.spans:
                if part.key in r:
                    r[part.key] = fill(r[part.key], f"/{key}/{i}/{part.key}")
            if isinstance(r.get("arguments"), list):
                r["arguments"] = [_ordered(a, "argument") for a in r["arguments"]]
            items[i] = r
        if filler is not None and layer.taken:
            filler.check_taken(items, layer.spans[0].key, key)
        out[key] = sorted(items, key=_sort_key(key))
    return out


_SPAN_POINTERS = tuple(dict.fromkeys(part.pointer for layer in LAYER_TABLE for part in layer.spans))


def _place(pending: list[_Pending], data: dict, text: bytes, shown: str) -> list[Problem]:
    """The pending problems at their spans' lines in ``text``, the JSON that ``dump_records`` made of
    the formatted ``data`` (each span found by identity, wherever sorting moved it)."""
    where: dict[int, str] = {}
    for key in DOC_LISTS:
        for i, r in enumerate(data.get(key) or []):
            if not isinstance(r, dict):
                continue
            for part in _SPAN_POINTERS:
                sp = r.get(part[1:]) if part else r
                if isinstance(sp, dict):
                    where.setdefault(id(sp), f"/{key}/{i}{part}")
    mapping = source_map(text.decode("utf-8"))
    out = []
    for p in pending:
        entry = mapping.get(where.get(id(p.span), ""))
        line, col = (entry.value_start.line + 1, entry.value_start.column + 1) if entry else (1, 1)
        out.append(Problem(shown, line, col, p.code, p.message, p.hint))
    return out


def _registry(data: dict, list_key: str, kind: str, sort_key) -> dict:
    items = data.get(list_key)
    if isinstance(items, list):
        if kind == "entity":  # a Wikidata id nobody checked online is marked unverified (null)
            items = [{**r, "wikidata_checked": None} if isinstance(r, dict) and r.get("wikidata")
                     and "wikidata_checked" not in r else r for r in items]
        items = [_ordered(r, kind) for r in items]
        for r in items:
            if kind == "entity" and isinstance(r, dict) and isinstance(r.get("wikidata_checked"), dict):
                r["wikidata_checked"] = _ordered(r["wikidata_checked"], "check")

            if kind == "entity" and isinstance(r, dict) and isinstance(r.get("aliases"), list) and all(
                    isinstance(a, str) for a in r["aliases"]):
                r["aliases"] = sorted(set(r["aliases"]))
        data = {**data, list_key: sorted(items, key=lambda r: sort_key(r) if isinstance(r, dict) else ("",))}
    return data


def canonical_entities(data: dict) -> bytes:
    """annotations/entities.json in canonical form (as ``fmt`` writes it)."""
    return dump_records(_registry(data, "entities", "entity", lambda r: (str(r.get("id")),)), ("entities",))


def targets(project: Project, paths: list[str] | None = None) -> list[Path]:
    """The hand-curated files: document annotations, the registries and the allow-list."""
    folder = project.documents
    files = [folder / name for name, _ in listing(str(folder)) if name.endswith(".json") and not name.startswith(".")] \
        if folder.is_dir() else []  # (a folder or link named like a file is listed, and reported when read)
    files += [p for p in (project.entities, project.xdoc_events, project.allow, project.guidelines) if os.path.lexists(p)]
    if paths:
        wanted = [Path(p).resolve() for p in paths]
        files = [f for f in files if any(f.resolve() == w or w in f.resolve().parents for w in wanted)]
    return files


def format_file(project: Project, path: Path, locator: Locator, written: bool = True) -> Formatted:
    shown = display(project.rel(path))  # (as problems show it)
    before, found = read_bytes(path, shown, MAX_JSON_BYTES)
    if before is None:  # not a regular file, or too large: reported as validate reports it, never touched
        return Formatted(path, shown, b"", None, found)
    result = Formatted(path, shown, before)
    if path == project.guidelines:
        return _format_guidelines(project, result)
    raw = before[3:] if before.startswith(b"\xef\xbb\xbf") else before
    try:
        data = orjson.loads(raw.replace(b"\r\n", b"\n"))
    except orjson.JSONDecodeError as e:
        result.problems.append(Problem(shown, e.lineno, e.colno, "F004", f"invalid JSON, not formatted: {e.msg}",
                                       "fix the syntax first (a missing comma or quote, or a trailing comma)"))
        return result
    found = structure_problem(raw.replace(b"\r\n", b"\n"), data, shown)
    if found is not None:  # formatting would silently drop a repeated key's first value
        result.problems.append(found)
        return result
    if not isinstance(data, dict):
        result.problems.append(Problem(shown, 1, 1, "S001", "the file is not a JSON object, not formatted", None))
        return result
    if path == project.entities:
        result.after = canonical_entities(data)
    elif path == project.xdoc_events:
        result.after = dump_records(_registry(data, "events", "xdoc", lambda r: (str(r.get("id")),)), ("events",))
    elif path == project.allow:
        result.after = dump_records(_registry(data, "allow", "allow", lambda r: (
            str(r.get("code")), str(r.get("path") or ""), str(r.get("contains")))), ("allow",))
    else:
        doc = data.get("document") if isinstance(data.get("document"), str) else path.stem
        text_path = project.corpus / f"{doc}.txt"
        filler = None
        text, _ = read_text_file(text_path, project.rel(text_path)) if os.path.lexists(text_path) else (None, [])
        if text is not None:  # (an unreadable text is validate's to report; spans by text then stay as written)
            text = text[:-1] if text.endswith("\n") else text
            filler = _Filler(text)
        formatted = format_document(data, filler)
        result.after = dump_records(formatted, DOC_LISTS)
        if filler is not None and filler.pending:
            if written:  # positions in the file as fmt writes it
                result.problems += _place(filler.pending, formatted, result.after, shown)
            else:  # --check writes nothing: positions in the file as it is
                result.problems += [Problem(shown, *locator.locate(path, p.pointer), p.code, p.message, p.hint)
                                    for p in filler.pending]
    return result


def _format_guidelines(project: Project, result: Formatted) -> Formatted:
    """GUIDELINES.md: its label tables regenerated from schema/labels.json (the one source of the
    definitions); the prose around them is the annotators' and stays as written."""
    text, found = read_text_file(result.path, result.shown, MAX_JSON_BYTES, result.before)
    try:
        labels = Labels(project.schema / "labels.json")
    except (OSError, ValueError, KeyError, TypeError):  # a broken labels.json is validate's to report
        labels = None
    if text is None or labels is None:
        result.problems += found
        return result
    refreshed, unknown = refresh_guidelines(text, labels)
    for key in unknown:
        line, col = text_position(text, text.index(f"<!-- labels:{key}"))
        result.problems.append(Problem(result.shown, line, col, "S005", f"unknown label inventory {key!r}",
                                       f"expected one of {', '.join(labels.inventories)}"))
    result.after = refreshed.encode("utf-8")
    return result


def fmt(project: Project, paths: list[str] | None = None, check: bool = False) -> list[Formatted]:
    locator = Locator()
    results = [format_file(project, p, locator, written=not check) for p in targets(project, paths)]
    if not check:
        for r in results:
            if r.changed:
                atomic_write(r.path, r.after)
    return results
