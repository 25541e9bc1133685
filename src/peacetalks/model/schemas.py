"""Level 2: structure, checked against the JSON Schemas (Draft 2020-12) in schema/.

The fast path asks jsonschema-rs whether a file is valid; only a file that is not
goes through the pure-Python ``jsonschema`` validator, whose detailed errors become
friendly problems with hints. ``jsonschema`` and ``referencing`` are imported then, on
first need (``_detailed_validator``): a run whose files are all valid does without their
imports (~45 ms of every command's start).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import jsonschema_rs
import orjson

if TYPE_CHECKING:
    import jsonschema

#: The schema of each kind of file, by the last part of its $id.
KINDS = ("annotations", "entities", "xdoc-events", "corpus", "layers", "allow", "manifest", "agreement")

_TIMEX_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?|(\d{4})-W(\d{2})")


def calendar_date(value: str) -> bool:
    """An ISO 8601 date (YYYY-MM-DD) that exists in the calendar (no 2025-02-30); formats concern strings only."""
    if not isinstance(value, str):
        return True
    try:
        return len(value) == 10 and _dt.date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def timex_value(value: str) -> bool:
    """The calendar part of a TIMEX3 value exists: a real day (2025-02-28, not 2025-02-30), a real ISO
    week (2026-W53 exists, 2025-W53 does not). The pattern checks the form; this the calendar."""
    m = _TIMEX_DATE.match(value) if isinstance(value, str) else None
    if not m:
        return True  # no calendar date in it (PRESENT_REF, XXXX-03, 201X, ...)
    if m.group(1) and m.group(3):
        return calendar_date(value[:10])
    if m.group(4):
        try:
            _dt.date.fromisocalendar(int(m.group(4)), int(m.group(5)), 1)
        except ValueError:
            return False
    return True


#: Formats beyond JSON Schema's own, checked alike by both validators (jsonschema-rs and jsonschema).
#: (Time expression values are checked against the calendar over the corpus table, ``validate``: a
#: format would call Python once per value from the fast validator.)
FORMATS = {"calendar-date": calendar_date}


def _ecma(pattern: str) -> str:
    """A JSON Schema (ECMA-262) pattern for Python's ``re``: an unescaped ``$`` outside a character
    class matches only at the very end (Python's ``$`` also matches before a final newline, so
    ``^[a-z]+$`` would accept ``"macron\\n"``)."""
    out, escaped, in_class = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1)
def _jsonschema():
    """The pure-Python ``jsonschema`` module, imported on first need (a file that fails the fast check)."""
    import jsonschema
    return jsonschema


@lru_cache(maxsize=1)
def _detailed_validator():
    """The detailed validator class (Draft 2020-12 with ECMA-262 patterns) and its format checker."""
    jsonschema = _jsonschema()

    def pattern(validator, pattern, instance, schema):
        if validator.is_type(instance, "string") and not re.search(_ecma(pattern), instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")

    checker = jsonschema.FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    return jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": pattern}), checker


def _urn(kind: str) -> str:
    return f"urn:peacetalks:schema:{kind}"


@dataclass(frozen=True)
class SchemaError:
    """A structural problem before it is placed in a file: pointer, code, message, hint."""

    pointer: str
    code: str
    message: str
    hint: str | None
    at_key: bool = False


class Schemas:
    def __init__(self, schema_dir: Path):
        self.dir = schema_dir
        self.documents: dict[str, dict] = {}
        for path in sorted(schema_dir.glob("*.json")):
            doc = orjson.loads(path.read_bytes())
            self.documents[doc["$id"]] = doc
        self._rs_registry = jsonschema_rs.Registry(list(self.documents.items()))

    def schema(self, kind: str) -> dict:
        return self.documents[_urn(kind)]

    @cached_property
    def _fast(self) -> dict[str, Any]:
        return {
            kind: jsonschema_rs.Draft202012Validator(self.schema(kind), registry=self._rs_registry, formats=FORMATS,
                                                     validate_formats=True, ignore_unknown_formats=False)
            for kind in KINDS if _urn(kind) in self.documents
        }

    @cached_property
    def registry(self):
        """The schemas as a ``referencing`` registry, for the detailed validator and ``resolve``."""
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        return Registry().with_resources(
            (uri, Resource.from_contents(doc, default_specification=DRAFT202012)) for uri, doc in self.documents.items())

    @cached_property
    def _detailed(self) -> dict[str, jsonschema.Draft202012Validator]:
        detailed, checker = _detailed_validator()
        return {
            kind: detailed(self.schema(kind), registry=self.registry, format_checker=checker)
            for kind in KINDS if _urn(kind) in self.documents
        }

    def is_valid(self, kind: str, instance: Any) -> bool:
        return self.validator(kind)(instance)

    def validator(self, kind: str):
        """The fast check of one kind, remembering its last answer: a file is checked once when its
        reader (to skip the depth walk) and then ``errors`` ask about the same value."""
        fast, last = self._fast[kind].is_valid, self._last

        def check(instance: Any) -> bool:
            seen = last.get(kind)
            if seen is not None and seen[0] is instance:
                return seen[1]
            ok = fast(instance)
            last[kind] = (instance, ok)
            return ok
        return check

    @cached_property
    def _last(self) -> dict[str, tuple[Any, bool]]:
        return {}

    def errors(self, kind: str, instance: Any) -> list[SchemaError]:
        """Every structural problem of an instance, friendliest form first."""
        if self.is_valid(kind, instance):
            return []
        found = []
        for error in self._detailed[kind].iter_errors(instance):
            found.extend(_translate(error, self.resolve))
        return sorted(set(found), key=lambda e: (e.pointer, e.code, e.message))

    @cached_property
    def _id(self):
        return jsonschema_rs.Draft202012Validator(self.documents[_urn("common")]["$defs"]["Id"])

    def is_valid_id(self, value: str) -> bool:
        """Whether a string is a safe id (the common.json Id definition)."""
        try:
            return self._id.is_valid(value)
        except UnicodeEncodeError:  # (a file name that is not UTF-8 is no id)
            return False

    def resolve(self, subschema: dict) -> dict:
        """A subschema with its $ref (if any) followed through the registry."""
        ref = subschema.get("$ref")
        return self.registry.resolver().lookup(ref).contents if ref else subschema

    def check_schemas(self) -> None:
        """Raise if any schema file is not itself a valid Draft 2020-12 schema."""
        for doc in self.documents.values():
            _jsonschema().Draft202012Validator.check_schema(doc)


def _pointer(path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _field(error: jsonschema.ValidationError) -> str:
    return str(error.absolute_path[-1]) if error.absolute_path else "(document)"


def _label_options(schema: dict) -> tuple[str, list[str]] | None:
    """If a schema is a label inventory (oneOf of consts, or anyOf of those), its title and names."""
    if schema.get("oneOf") and all("const" in s for s in schema["oneOf"]):
        return schema.get("title", "label").lower(), [s["const"] for s in schema["oneOf"]]
    return None


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "integer" if isinstance(value, int) else "number")


def _did_you_mean(value: Any, options: list[str]) -> str | None:
    if isinstance(value, str):
        close = difflib.get_close_matches(value, options, n=1, cutoff=0.5) or difflib.get_close_matches(
            value.upper(), [o.upper() for o in options], n=1, cutoff=0.5)
        if close:
            match = next(o for o in options if o.upper() == close[0].upper())
            return f"did you mean {match!r}?"
    return None


def _translate(error: jsonschema.ValidationError, resolve) -> Iterator[SchemaError]:
    where = _pointer(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    hint_from_schema = schema.get("x-message")
    kind = error.validator

    if kind in ("oneOf", "anyOf"):
        options = _label_options(schema)
        if options is None and kind == "anyOf":  # e.g. a mention type: entity types or time types
            resolved = [_label_options(resolve(s)) for s in schema.get("anyOf", [])]
            if resolved and all(resolved):
                options = (" or ".join(title for title, _ in resolved), [n for _, names in resolved for n in names])
        if options is not None:
            title, names = options
            yield SchemaError(where, "S005", f"unknown {title} {error.instance!r}; expected one of {', '.join(names)}",
                              _did_you_mean(error.instance, names))
            return
        # a value with alternatives (e.g. a Wikidata id or null): explain the closest alternative
        context = [e for e in error.context or []
                   if not (e.validator == "type" and e.validator_value == "null" and error.instance is not None)]
        best = _jsonschema().exceptions.best_match(context) if context else None
        if best is not None:
            yield from _translate(best, resolve)
            return
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        if missing in ("start", "end") or (missing == "id" and where.split("/")[1:2] in (["mentions"], ["events"], ["quotes"])):
            hint_from_schema = ("run `peacetalks fmt`: it fills in offsets from a span's text (and 'occurrence') "
                                "and gives new annotations their ids")
        yield SchemaError(where, "S002", f"missing required field {missing!r}", hint_from_schema)
        return
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        for extra in sorted(set(error.instance) - set(allowed)):
            hint = _did_you_mean(extra, allowed) or f"allowed fields: {', '.join(allowed)}"
            if extra == "occurrence":
                hint = "run `peacetalks fmt`: it turns a span's text and occurrence into offsets"
            yield SchemaError(f"{where}/{extra}", "S003", f"unknown field {extra!r}", hint, at_key=True)
        return
    if kind == "type":
        expected = schema.get("type")
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        yield SchemaError(where, "S004", f"{_field(error)!r} must be {expected}, not {_json_type(error.instance)}",
                          "write numbers without quotes" if expected == "integer" and isinstance(error.instance, str) else None)
        return
    if kind in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "maxLength", "maxItems"):
        yield SchemaError(where, "S006", f"{_field(error)!r}: {error.message}", schema.get("description"))
        return
    if kind in ("pattern", "format"):
        description = schema.get("description")
        yield SchemaError(where, "S006", f"{_field(error)!r} value {error.instance!r} does not have the required form",
                          description or f"it must match {schema.get('pattern')}")
        return
    if kind == "not":
        yield SchemaError(where, "S007", _not_message(error), hint_from_schema)
        return
    if kind == "const":
        yield SchemaError(where, "S006", f"{_field(error)!r} must be {schema.get('const')!r}, not {error.instance!r}", None)
        return
    if kind in ("enum",):
        names = schema.get("enum", [])
        yield SchemaError(where, "S005", f"{error.instance!r} is not one of {', '.join(map(str, names))}",
                          _did_you_mean(error.instance, [str(n) for n in names]))
        return
    yield SchemaError(where, "S001", f"{_field(error)!r}: {error.message}", hint_from_schema)


def _not_message(error: jsonschema.ValidationError) -> str:
    forbidden = []
    for alternative in error.validator_value.get("anyOf", [error.validator_value]):
        for name in alternative.get("required", []):
            if isinstance(error.instance, dict) and name in error.instance:
                forbidden.append(name)
    if forbidden:
        return f"field{'s' * (len(forbidden) > 1)} {', '.join(map(repr, forbidden))} not allowed here"
    return "value is not allowed here"
