"""Level 5, corpus tables: pandera schemas over the flattened tables (C001).

Incidents: a column with the wrong dtype or a value outside its set or range, a row that
breaks uniqueness (one registry entity per Wikidata id, one quote per content and speaker),
and the per-document consistency checks of ``model/tables.py``. Run only where levels 1-4
found no error (a document's tables on each shard, the corpus tables over the corpus), since
their failures would repeat here.

pandera runs each check as a query of its own (some 300 per shard of 1,000 documents, most of
the level's time). ``passes`` first asks every rule of a table (``model/tables.py``) in one
polars query; only a table it cannot clear goes through pandera, which finds and reports the
failure cases. It clears a table only when pandera would pass it (tests hold the two to the
same verdict), and pandera is not even imported while every table passes.
"""

from __future__ import annotations

import polars as pl

from ..diagnostics.problems import Problem
from ..model.tables import Table, table_rules, table_schemas
from ..reading.annotations import Tables
from .context import Context

_TABLE_FILES = {"entities": ("entities", "entities"), "xdoc_events": ("xdoc-events", "events")}


#: the tables of the corpus as a whole; the others hold rows of documents, checked shard by shard
CORPUS_TABLES = ("documents", "entities", "xdoc_events")


def check_tables(ctx: Context, tables: Tables, corpus: bool) -> list[Problem]:
    """The corpus tables (``corpus``), or the per-document tables of the documents in ``tables``."""
    problems = []
    for name, rules in table_rules(ctx.labels).items():
        if (name in CORPUS_TABLES) != corpus:
            continue
        table = getattr(tables, name)
        frame = pl.from_arrow(table.drop_columns(["text"]) if name == "documents" and "text" in table.column_names
                              else table)
        if "index" in frame.columns:
            frame = frame.rename({"index": "position"})
        if not passes(rules, frame):
            problems += _pandera_problems(ctx, name, frame, rules)
    return problems


def _pandera_problems(ctx: Context, name: str, frame: pl.DataFrame, rules: Table) -> list[Problem]:
    """What pandera finds wrong with a table ``passes`` did not clear (nothing, if it finds nothing)."""
    import pandera.errors  # (only for a table that did not pass: see the module's docstring)
    try:
        table_schemas(ctx.labels)[name].validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as err:
        return [_table_problem(ctx, name, frame, case, list(rules.unique))
                for case in err.failure_cases.iter_rows(named=True)]
    except Exception as err:  # noqa: BLE001 - a check that cannot run is reported, never a traceback
        return [Problem(ctx.project.rel(ctx.project.annotations), 1, 1, "C001",
                        f"{name} table: the table checks could not run ({type(err).__name__}: {err})",
                        "please report this with the files of your change")]
    return []


def passes(rules: Table, frame: pl.DataFrame) -> bool:
    """Whether pandera's schema of ``rules`` certainly finds nothing wrong with ``frame``, in one query.

    True only for a frame with exactly the table's columns and dtypes (nothing to coerce), whose
    every column check (a null passes it, as pandera's ``ignore_na``), row rule, non-null column
    and uniqueness constraint holds on every row. Anything else is for pandera to decide.
    """
    if set(frame.columns) != set(rules.columns) or any(frame.schema[n] != c.dtype for n, c in rules.columns.items()):
        return False
    if any(frame.schema[n].is_float() for n in rules.columns):  # (pandera counts NaN as null: none here)
        return False
    asked = [rule.expr.fill_null(True).all() for rule in rules.rules]
    for name, column in rules.columns.items():
        if not column.nullable:
            asked.append(pl.col(name).is_not_null().all())
        if column.unique:
            asked.append(pl.col(name).is_unique().all())
        asked += [check.expr(name).fill_null(True).all() for check in column.checks]
    if rules.unique:
        asked.append(pl.struct(list(rules.unique)).is_unique().all())
    if not asked:
        return True
    verdicts = frame.select([a.alias(str(i)) for i, a in enumerate(asked)])
    return verdicts.height == 1 and all(v is True for v in verdicts.row(0))


def _table_problem(ctx: Context, name: str, frame: pl.DataFrame, case: dict, unique: list[str] | None) -> Problem:
    index = case.get("index")
    if case.get("check") == "multiple_fields_uniqueness" and unique:
        what = f"{name} table: another row has the same {', '.join(unique)}"
    else:
        what = f"{name} table: {case.get('check')} failed"
        if case.get("column"):
            what += f" in column {case['column']!r}"
        if case.get("failure_case") is not None:
            what += f" (value {case['failure_case']!r})"
    if index is None or index >= frame.height:
        return Problem(ctx.project.rel(ctx.project.annotations), 1, 1, "C001", what, None)
    row = frame.row(index, named=True)
    if name == "documents":
        return Problem(ctx.project.rel(ctx.project.corpus / f"{row['id']}.json"), 1, 1, "C001", what, None)
    if name in _TABLE_FILES:
        file, key = _TABLE_FILES[name]
        return ctx.at_file(ctx.project.annotations / f"{file}.json", f"/{key}/{index}", "C001", what)
    pointer = (f"/events/{row['event_index']}/arguments/{row['position']}" if name == "arguments"
               else f"/{name}/{row['position']}")
    return ctx.at(row["document"], pointer, "C001", what)
