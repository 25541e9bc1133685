"""Level 4, references: ids, links and types across the flattened tables (polars joins).

Incidents: an id used twice (R001; registry and document ids also regardless of case, since they
name files: ``check_registries``, over the whole corpus), a
reference that does not resolve (R002), a mention whose type is not its entity's (R003),
a role the event type does not have (R004), a filler type the role does not take (R005),
a speaker or addressee that is no entity mention (R006), and a time value outside the
calendar (S006, checked here once per distinct value).
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ..diagnostics.problems import Problem
from ..model.schemas import timex_value
from ..reading.annotations import Tables
from .context import Context, close_match


class _IdKeys:
    """One int64 per (document, annotation id): document number * number of distinct ids + id number.

    Ids are numbered among the distinct mention, event and quote ids of the corpus (few:
    "m1", "m2", ...); a referenced id that is none of them gets a null key, which joins nothing.
    """

    def __init__(self, tables: Tables):
        self.documents = tables.documents.column("id")
        self.ids = pc.unique(pa.chunked_array(
            [chunk for t in (tables.mentions, tables.events, tables.quotes) for chunk in t.column("id").chunks], pa.string()))

    def document_numbers(self, table: pa.Table) -> pa.ChunkedArray:
        return pc.index_in(table.column("document"), value_set=self.documents).cast(pa.int64())

    def of(self, table: pa.Table, column: str) -> pl.Series:
        number = pc.index_in(table.column(column), value_set=self.ids).cast(pa.int64())
        return pl.Series(f"{column}_key", pc.add(pc.multiply(self.document_numbers(table), len(self.ids)), number))


def check_time_values(ctx: Context, tables: Tables) -> list[Problem]:
    """S006: a time expression's value names a day or ISO week the calendar does not have (2025-02-30,
    2025-W53); the schema checks the form. Each distinct value is checked once."""
    values = tables.mentions.column("value")
    distinct = pc.unique(values.drop_null()).to_pylist() if values.null_count < len(values) else []
    wrong = [v for v in distinct if not timex_value(v)]
    if not wrong:
        return []
    rows = tables.mentions.filter(pc.is_in(values, value_set=pa.array(wrong, pa.string())))
    return [ctx.at(r["document"], f"/mentions/{r['index']}/value", "S006",
                   f"'value' {r['value']!r} is not a date in the calendar",
                   "a TIMEX3 value names a day, week or month that exists (2025-02-28, 2026-W53; not 2025-02-30)")
            for r in rows.select(["document", "index", "value"]).to_pylist()]


def check_registries(ctx: Context, tables: Tables) -> list[Problem]:
    """R001 across the corpus: registry ids, and registry and document ids regardless of case."""
    problems: list[Problem] = []
    entities = pl.from_arrow(tables.entities)
    xdoc = pl.from_arrow(tables.xdoc_events)
    # registry and document ids name files (entity pages, documents): unique regardless of case, as
    # macOS and Windows file systems compare names
    for frame, path, key in ((entities, ctx.project.entities, "entities"), (xdoc, ctx.project.xdoc_events, "events")):
        dup = (frame.with_row_index("i").with_columns(pl.col("id").str.to_lowercase().alias("folded"))
               .with_columns(pl.col("id").first().over("folded").alias("first"))
               .filter(pl.int_range(pl.len()).over("folded") > 0))
        for row in dup.iter_rows(named=True):
            same = row["id"] == row["first"]
            problems.append(ctx.at_file(path, f"/{key}/{row['i']}/id", "R001",
                                        f"id {row['id']!r} is used twice" if same else
                                        f"id {row['id']!r} differs from {row['first']!r} only by case",
                                        "merge the two records or rename one" if same else
                                        "ids name files, and case-insensitive file systems see one name: rename one"))
    folded: dict[str, str] = {}
    for document in tables.documents.column("id").to_pylist():
        other = folded.setdefault(document.lower(), document)
        if other != document:
            problems.append(Problem(ctx.project.rel(ctx.project.corpus / f"{document}.json"), 1, 1, "R001",
                                    f"document id {document!r} differs from {other!r} only by case",
                                    "document ids name files, and case-insensitive file systems see one name: "
                                    "give the new document another id"))
    return problems


def check_references(ctx: Context, tables: Tables, have_entities: bool, have_xdoc: bool) -> list[Problem]:
    """Every reference of some documents' annotations (within each document, and to the registries
    in ``tables``): a function of those documents and the registries, run on each shard."""
    labels = ctx.labels
    problems: list[Problem] = []
    # (document, id) pairs become one int64 key each: the joins below hash integers, not strings
    keys = _IdKeys(tables)
    mentions = pl.from_arrow(tables.mentions).with_columns(keys.of(tables.mentions, "id"))
    events = pl.from_arrow(tables.events).with_columns(keys.of(tables.events, "id"))
    quotes = pl.from_arrow(tables.quotes).with_columns(keys.of(tables.quotes, "speaker"), keys.of(tables.quotes, "addressee"))
    args = pl.from_arrow(tables.arguments).with_columns(keys.of(tables.arguments, "mention"))
    entities = pl.from_arrow(tables.entities)
    xdoc = pl.from_arrow(tables.xdoc_events)

    # R001: ids unique within a document across layers, and within each registry
    ids = pl.concat([
        frame.select("document", pl.lit(layer).alias("layer"), "index", "id", "id_key")
        for layer, frame in (("mentions", mentions), ("events", events), ("quotes", quotes.with_columns(keys.of(tables.quotes, "id"))))
    ])
    dupes = (ids.filter(pl.col("id_key").is_duplicated())  # a hash pass; few rows are left to rank
             .with_columns(pl.int_range(pl.len()).over("id_key").alias("n")).filter(pl.col("n") > 0))
    for row in dupes.iter_rows(named=True):
        problems.append(ctx.at(row["document"], f"/{row['layer']}/{row['index']}/id", "R001",
                               f"id {row['id']!r} is already used in this document",
                               "ids are unique across the mentions, events and quotes of a document"))

    # R002 / R003: mention -> registry entity, types agree
    if have_entities:
        linked = mentions.filter(pl.col("entity").is_not_null()).join(
            entities.select("id", pl.col("type").alias("entity_type"), pl.lit(True).alias("known")),
            left_on="entity", right_on="id", how="left", suffix="_e")
        known_ids = entities["id"].to_list()
        for row in linked.filter(pl.col("known").is_null()).iter_rows(named=True):
            problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/entity", "R002",
                                   f"entity {row['entity']!r} is not in annotations/entities.json",
                                   close_match(row["entity"], known_ids, "entity") or "add it to the registry"))
        for row in linked.filter(pl.col("known") & (pl.col("type") != pl.col("entity_type"))).iter_rows(named=True):
            problems.append(ctx.at(row["document"], f"/mentions/{row['index']}/type", "R003",
                                   f"mention {row['text']!r} is {row['type']} but entity {row['entity']!r} is {row['entity_type']}",
                                   f"use type {row['entity_type']}, or link the mention to an entity of type {row['type']}"))

    mention_types = mentions.select(pl.col("id_key").alias("key"), pl.col("type").alias("mention_type"))

    # event arguments: mention exists, role allowed for the event type, filler type allowed for the role
    roles = pl.DataFrame(
        [(etype, role, allowed) for etype, rs in labels.event_roles.items() for role, allowed in rs.items()],
        schema={"type": pl.Utf8, "role": pl.Utf8, "allowed": pl.List(pl.Utf8)}, orient="row")
    width = (events["index"].max() or 0) + 1  # (document number, event index) as one int64 too
    a = (args.with_columns(pl.Series("doc", keys.document_numbers(tables.arguments)))
         .join(events.select((pl.Series("doc", keys.document_numbers(tables.events)) * width + pl.col("index")).alias("event"),
                             "type"),
               left_on=pl.col("doc") * width + pl.col("event_index"), right_on="event", how="left")
         .join(mention_types, left_on="mention_key", right_on="key", how="left")
         .join(roles, on=["type", "role"], how="left"))
    bad = (pl.col("mention_type").is_null() | pl.col("allowed").is_null()
           | ~pl.col("allowed").list.contains(pl.col("mention_type")))
    for row in a.filter(bad).iter_rows(named=True):  # only the failing rows leave polars
        pointer = f"/events/{row['event_index']}/arguments/{row['index']}"
        if row["mention_type"] is None:
            problems.append(ctx.at(row["document"], pointer + "/mention", "R002",
                                   f"argument mention {row['mention']!r} is not a mention of this document",
                                   close_match(row["mention"], mentions.filter(pl.col("document") == row["document"])["id"].to_list(), "mention")))
        if row["allowed"] is None:
            allowed_roles = list(labels.event_roles.get(row["type"], {}))
            problems.append(ctx.at(row["document"], pointer + "/role", "R004",
                                   f"role {row['role']!r} is not allowed for {row['type']}",
                                   f"{row['type']} allows {', '.join(allowed_roles)}"))
        elif row["mention_type"] is not None and row["mention_type"] not in row["allowed"]:
            problems.append(ctx.at(row["document"], pointer + "/mention", "R005",
                                   f"{row['role']} of {row['type']} cannot be a {row['mention_type']} mention",
                                   f"a {row['role']} is {', '.join(row['allowed'])}"))

    # quote speaker and addressee: mentions of this document, of an entity type
    for field_ in ("speaker", "addressee"):
        q = (quotes.filter(pl.col(field_).is_not_null())
             .join(mention_types, left_on=f"{field_}_key", right_on="key", how="left")
             .filter(pl.col("mention_type").is_null() | pl.col("mention_type").is_in(labels.timex_types)))
        for row in q.iter_rows(named=True):
            pointer = f"/quotes/{row['index']}/{field_}"
            if row["mention_type"] is None:
                problems.append(ctx.at(row["document"], pointer, "R002",
                                       f"{field_} {row[field_]!r} is not a mention of this document",
                                       "annotate the speaker as a mention (a pronoun or nominal counts) and use its id"))
            elif row["mention_type"] in labels.timex_types:
                problems.append(ctx.at(row["document"], pointer, "R006",
                                       f"{field_} {row[field_]!r} is a {row['mention_type']} expression, not an entity",
                                       f"the {field_} is who says it (or is told): annotate that entity's mention "
                                       "(a name, nominal or pronoun) and give its id"))

    if have_xdoc:
        known = xdoc["id"].to_list()
        for row in events.filter(pl.col("xdoc").is_not_null() & ~pl.col("xdoc").is_in(known)).iter_rows(named=True):
            problems.append(ctx.at(row["document"], f"/events/{row['index']}/xdoc", "R002",
                                   f"cross-document event {row['xdoc']!r} is not in annotations/xdoc-events.json",
                                   close_match(row["xdoc"], known, "event") or "add it to the registry"))
    return problems


