"""Level 5 and the release contract: pandera schemas of the flattened corpus tables.

Value sets come from schema/labels.json through ``Labels``; no label is written here.
A row's index in its file's list is the column ``position`` here (``index`` in
``Tables``): pandera keeps the name ``index`` for its own failure-case bookkeeping.
"""

from __future__ import annotations

from functools import lru_cache

import pandera.polars as pa
import polars as pl

from .labels import Labels

_STR, _INT = pl.Utf8, pl.Int64


def _rows(expr: pl.Expr, name: str) -> pa.Check:
    """A dataframe-level check: a boolean polars expression that must hold on every row."""
    return pa.Check(lambda data: data.lazyframe.select(expr), name=name)


@lru_cache(maxsize=4)
def table_schemas(labels: Labels) -> dict[str, pa.DataFrameSchema]:
    span_ok = _rows(pl.col("end") > pl.col("start"), "end > start")
    return {
        "documents": pa.DataFrameSchema(
            {
                "id": pa.Column(_STR, unique=True),
                "title": pa.Column(_STR, nullable=True),
                "date": pa.Column(_STR, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$"), nullable=True),
                "outlet": pa.Column(_STR, nullable=True),
                "author": pa.Column(_STR, nullable=True),
                "url": pa.Column(_STR, nullable=True),
                "language": pa.Column(_STR, pa.Check.isin(["en"])),
                "source_file": pa.Column(_STR, unique=True),
                "source_sha256": pa.Column(_STR, [pa.Check.str_matches(r"^[0-9a-f]{64}$")], unique=True),
                "normaliser": pa.Column(_STR),
                # (the text itself is checked per file at level 1: F003, F010)
            },
            name="documents", strict=True, coerce=True,
        ),
        "mentions": pa.DataFrameSchema(
            {
                "document": pa.Column(_STR),
                "position": pa.Column(_INT, pa.Check.ge(0)),
                "id": pa.Column(_STR),
                "start": pa.Column(_INT, pa.Check.ge(0)),
                "end": pa.Column(_INT, pa.Check.gt(0)),
                "text": pa.Column(_STR, pa.Check.str_length(min_value=1)),
                "type": pa.Column(_STR, pa.Check.isin(labels.mention_types)),
                "level": pa.Column(_STR, pa.Check.isin(labels["MentionLevel"].names), nullable=True),
                "entity": pa.Column(_STR, nullable=True),
                "value": pa.Column(_STR, nullable=True),
            },
            checks=[span_ok,
                    _rows(pl.col("type").is_in(labels.timex_types) == pl.col("entity").is_null(), "time expressions and only they have no entity")],
            unique=["document", "start", "end", "type"],
            name="mentions", strict=True, coerce=True,
        ),
        "events": pa.DataFrameSchema(
            {
                "document": pa.Column(_STR),
                "position": pa.Column(_INT, pa.Check.ge(0)),
                "id": pa.Column(_STR),
                "trigger_start": pa.Column(_INT, pa.Check.ge(0)),
                "trigger_end": pa.Column(_INT, pa.Check.gt(0)),
                "trigger_text": pa.Column(_STR),
                "type": pa.Column(_STR, pa.Check.isin(labels["EventType"].names)),
                "realis": pa.Column(_STR, pa.Check.isin(labels["Realis"].names)),
                "modality": pa.Column(_STR, pa.Check.isin(labels["Modality"].names), nullable=True),
                "xdoc": pa.Column(_STR, nullable=True),
            },
            checks=[_rows((pl.col("realis") == "other") == pl.col("modality").is_not_null(), "modality exactly when realis is other")],
            unique=["document", "trigger_start", "trigger_end", "type"],
            name="events", strict=True, coerce=True,
        ),
        "arguments": pa.DataFrameSchema(
            {
                "document": pa.Column(_STR),
                "event_index": pa.Column(_INT, pa.Check.ge(0)),
                "position": pa.Column(_INT, pa.Check.ge(0)),
                "role": pa.Column(_STR, pa.Check.isin(labels.roles)),
                "mention": pa.Column(_STR),
            },
            unique=["document", "event_index", "role", "mention"],
            name="arguments", strict=True, coerce=True,
        ),
        "quotes": pa.DataFrameSchema(
            {
                "document": pa.Column(_STR),
                "position": pa.Column(_INT, pa.Check.ge(0)),
                "id": pa.Column(_STR),
                "kind": pa.Column(_STR, pa.Check.isin(labels["QuoteKind"].names)),
                "content_start": pa.Column(_INT, pa.Check.ge(0)),
                "content_end": pa.Column(_INT, pa.Check.gt(0)),
                "content_text": pa.Column(_STR),
                "cue_start": pa.Column(_INT, nullable=True),
                "cue_end": pa.Column(_INT, nullable=True),
                "cue_text": pa.Column(_STR, nullable=True),
                "speaker": pa.Column(_STR, nullable=True),
                "addressee": pa.Column(_STR, nullable=True),
            },
            unique=["document", "content_start", "content_end", "speaker"],  # nested attribution: one content, several sources
            name="quotes", strict=True, coerce=True,
        ),
        "flags": pa.DataFrameSchema(
            {
                "document": pa.Column(_STR),
                "position": pa.Column(_INT, pa.Check.ge(0)),
                "code": pa.Column(_STR, pa.Check.isin(labels["FlagCode"].names)),
                "note": pa.Column(_STR, pa.Check.str_length(min_value=1)),
                "span_start": pa.Column(_INT, nullable=True),
                "span_end": pa.Column(_INT, nullable=True),
                "span_text": pa.Column(_STR, nullable=True),
            },
            name="flags", strict=True, coerce=True,
        ),
        "entities": pa.DataFrameSchema(
            {
                "id": pa.Column(_STR, unique=True),
                "name": pa.Column(_STR),
                "type": pa.Column(_STR, pa.Check.isin(labels.entity_types)),
                "wikidata": pa.Column(_STR, pa.Check.str_matches(r"^Q[0-9]+$"), nullable=True),
                "aliases": pa.Column(pl.List(pl.Utf8)),
                "wikidata_checked": pa.Column(pl.Struct({"wikidata": pl.Utf8, "date": pl.Utf8, "label": pl.Utf8}),
                                              nullable=True),
            },
            checks=[_rows(pl.col("wikidata").is_null() | pl.col("wikidata").is_first_distinct(), "one registry entity per Wikidata id")],
            name="entities", strict=True, coerce=True,
        ),
        "xdoc_events": pa.DataFrameSchema(
            {
                "id": pa.Column(_STR, unique=True),
                "name": pa.Column(_STR),
                "description": pa.Column(_STR),
                "date": pa.Column(_STR, nullable=True),
            },
            name="xdoc_events", strict=True, coerce=True,
        ),
    }
