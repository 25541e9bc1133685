"""Level 5 and the release contract: the rules of the flattened corpus tables, as pandera schemas.

Each table is declared once here, as plain data (``Table``: its columns' dtypes, value checks,
nullability and uniqueness, and its row rules); ``table_schemas`` makes pandera's
``DataFrameSchema`` of each, and ``checks/level5_tables.py`` asks the same rules as polars
expressions, in one query, before it lets pandera find what failed. pandera is imported only
when its schemas are made: a check of a corpus that passes does not pay for it (~0.3 s).

Value sets come from schema/labels.json through ``Labels``; no label is written here.
A row's index in its file's list is the column ``position`` here (``index`` in
``Tables``): pandera keeps the name ``index`` for its own failure-case bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import polars as pl

from .labels import Labels

_STR, _INT = pl.Utf8, pl.Int64


@dataclass(frozen=True)
class Check:
    """A value check of a column, by the name of pandera's built-in check (``isin``, ``ge``, ``gt``,
    ``str_matches``, ``str_length``) and its arguments. Nulls pass it, as in pandera."""

    kind: str
    args: dict

    def expr(self, column: str) -> pl.Expr:
        """The check as a boolean polars expression over the column (null where the value is null)."""
        c = pl.col(column)
        if self.kind == "isin":
            return c.is_in(list(self.args["allowed_values"]))
        if self.kind == "ge":
            return c >= self.args["min_value"]
        if self.kind == "gt":
            return c > self.args["min_value"]
        if self.kind == "str_matches":
            pattern = self.args["pattern"]
            return c.str.contains(pattern if pattern.startswith("^") else f"^{pattern}")
        if self.kind == "str_length":
            return c.str.len_chars() >= self.args["min_value"]
        raise ValueError(f"unknown check {self.kind!r}")

    def pandera(self):
        import pandera.polars as pa  # (only where pandera's schemas are made: see the module's docstring)
        return getattr(pa.Check, self.kind)(**self.args)


def isin(values) -> Check:
    return Check("isin", {"allowed_values": list(values)})


def ge(value: int) -> Check:
    return Check("ge", {"min_value": value})


def gt(value: int) -> Check:
    return Check("gt", {"min_value": value})


def matches(pattern: str) -> Check:
    return Check("str_matches", {"pattern": pattern})


def not_empty() -> Check:
    return Check("str_length", {"min_value": 1})


@dataclass(frozen=True)
class Column:
    dtype: Any
    checks: tuple[Check, ...] = ()
    nullable: bool = False
    unique: bool = False


@dataclass(frozen=True)
class Rule:
    """A rule over whole rows: a boolean polars expression that must hold on every row (null passes)."""

    name: str
    expr: pl.Expr = field(compare=False)


@dataclass(frozen=True)
class Table:
    """One table's rules: exactly these columns with these dtypes, their checks, the row rules, and the
    columns whose values together are unique."""

    columns: dict[str, Column]
    rules: tuple[Rule, ...] = ()
    unique: tuple[str, ...] = ()
    name: str = ""


def _col(dtype, *checks: Check, nullable: bool = False, unique: bool = False) -> Column:
    return Column(dtype, tuple(checks), nullable, unique)


@lru_cache(maxsize=4)
def table_schemas(labels: Labels) -> dict:
    """pandera's ``DataFrameSchema`` of each table of ``table_rules(labels)``."""
    import pandera.polars as pa  # (only where pandera's schemas are made: see the module's docstring)

    def schema(table: Table) -> pa.DataFrameSchema:
        return pa.DataFrameSchema(
            {name: pa.Column(c.dtype, [check.pandera() for check in c.checks], nullable=c.nullable, unique=c.unique)
             for name, c in table.columns.items()},
            checks=[pa.Check(lambda data, expr=rule.expr: data.lazyframe.select(expr), name=rule.name)
                    for rule in table.rules],
            unique=list(table.unique) or None, name=table.name, strict=True, coerce=True)
    return {name: schema(table) for name, table in table_rules(labels).items()}


#: the first columns of a layer's table: its document, and its position in the document's list
_ENTRY = {"document": _col(_STR), "position": _col(_INT, ge(0))}


@lru_cache(maxsize=4)
def table_rules(labels: Labels) -> dict[str, Table]:
    """The rules of every table of the flattened corpus (``reading.annotations.Tables``)."""
    span_ok = Rule("end > start", pl.col("end") > pl.col("start"))
    return {
        "documents": Table(
            {
                "id": _col(_STR, unique=True),
                "title": _col(_STR, nullable=True),
                "date": _col(_STR, matches(r"^\d{4}-\d{2}-\d{2}$"), nullable=True),
                "outlet": _col(_STR, nullable=True),
                "author": _col(_STR, nullable=True),
                "url": _col(_STR, nullable=True),
                "language": _col(_STR, isin(["en"])),
                "source_file": _col(_STR, unique=True),
                "source_sha256": _col(_STR, matches(r"^[0-9a-f]{64}$"), unique=True),
                "normaliser": _col(_STR),
                # (the text itself is checked per file at level 1: F003, F010)
            },
            name="documents",
        ),
        "mentions": Table(
            {
                **_ENTRY,
                "id": _col(_STR),
                "start": _col(_INT, ge(0)),
                "end": _col(_INT, gt(0)),
                "text": _col(_STR, not_empty()),
                "type": _col(_STR, isin(labels.mention_types)),
                "level": _col(_STR, isin(labels["MentionLevel"].names), nullable=True),
                "entity": _col(_STR, nullable=True),
                "value": _col(_STR, nullable=True),
            },
            rules=(span_ok,
                   Rule("time expressions and only they have no entity", pl.col("type").is_in(labels.timex_types) == pl.col("entity").is_null())),
            unique=("document", "start", "end", "type"),
            name="mentions",
        ),
        "events": Table(
            {
                **_ENTRY,
                "id": _col(_STR),
                "trigger_start": _col(_INT, ge(0)),
                "trigger_end": _col(_INT, gt(0)),
                "trigger_text": _col(_STR),
                "type": _col(_STR, isin(labels["EventType"].names)),
                "realis": _col(_STR, isin(labels["Realis"].names)),
                "modality": _col(_STR, isin(labels["Modality"].names), nullable=True),
                "xdoc": _col(_STR, nullable=True),
            },
            rules=(Rule("modality exactly when realis is other", (pl.col("realis") == "other") == pl.col("modality").is_not_null()),),
            unique=("document", "trigger_start", "trigger_end", "type"),
            name="events",
        ),
        "arguments": Table(
            {
                "document": _col(_STR),
                "event_index": _col(_INT, ge(0)),
                "position": _col(_INT, ge(0)),
                "role": _col(_STR, isin(labels.roles)),
                "mention": _col(_STR),
            },
            unique=("document", "event_index", "role", "mention"),
            name="arguments",
        ),
        "quotes": Table(
            {
                **_ENTRY,
                "id": _col(_STR),
                "kind": _col(_STR, isin(labels["QuoteKind"].names)),
                "content_start": _col(_INT, ge(0)),
                "content_end": _col(_INT, gt(0)),
                "content_text": _col(_STR),
                "cue_start": _col(_INT, nullable=True),
                "cue_end": _col(_INT, nullable=True),
                "cue_text": _col(_STR, nullable=True),
                "speaker": _col(_STR, nullable=True),
                "addressee": _col(_STR, nullable=True),
            },
            unique=("document", "content_start", "content_end", "speaker"),  # nested attribution: one content, several sources
            name="quotes",
        ),
        "flags": Table(
            {
                **_ENTRY,
                "code": _col(_STR, isin(labels["FlagCode"].names)),
                "note": _col(_STR, not_empty()),
                "span_start": _col(_INT, nullable=True),
                "span_end": _col(_INT, nullable=True),
                "span_text": _col(_STR, nullable=True),
            },
            name="flags",
        ),
        "entities": Table(
            {
                "id": _col(_STR, unique=True),
                "name": _col(_STR),
                "type": _col(_STR, isin(labels.entity_types)),
                "wikidata": _col(_STR, matches(r"^Q[0-9]+$"), nullable=True),
                "aliases": _col(pl.List(pl.Utf8)),
                "wikidata_checked": _col(pl.Struct({"wikidata": pl.Utf8, "date": pl.Utf8, "label": pl.Utf8}),
                                              nullable=True),
            },
            rules=(Rule("one registry entity per Wikidata id", pl.col("wikidata").is_null() | pl.col("wikidata").is_first_distinct()),),
            name="entities",
        ),
        "xdoc_events": Table(
            {
                "id": _col(_STR, unique=True),
                "name": _col(_STR),
                "description": _col(_STR),
                "date": _col(_STR, nullable=True),
            },
            name="xdoc_events",
        ),
    }
