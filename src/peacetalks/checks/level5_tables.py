"""Level 5, corpus tables: pandera schemas over the flattened tables (C001).

Incidents: a column with the wrong dtype or a value outside its set or range, a row that
breaks uniqueness (one registry entity per Wikidata id, one quote per content and speaker),
and the per-document consistency checks of ``model/tables.py``. Run only where levels 1-4
found no error (a document's tables on each shard, the corpus tables over the corpus), since
their failures would repeat here.

pandera runs each check as a query of its own (some 300 per shard of 1,000 documents, most of
the level's time). ``passes`` first asks every check of a schema in one query, with pandera's own
check functions; only a table it cannot clear goes through pandera, which finds and reports
the failure cases. It clears a table only when pandera would pass it (tests hold the two to
the same verdict).
"""

from __future__ import annotations

import pandera.polars as pdr
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.backends.polars import builtin_checks  # noqa: F401 - registers the polars versions of the checks

from ..diagnostics.problems import Problem
from ..model.tables import table_schemas
from ..reading.annotations import Tables
from .context import Context

_TABLE_FILES = {"entities": ("entities", "entities"), "xdoc_events": ("xdoc-events", "events")}


#: the tables of the corpus as a whole; the others hold rows of documents, checked shard by shard
CORPUS_TABLES = ("documents", "entities", "xdoc_events")


def check_tables(ctx: Context, tables: Tables, corpus: bool) -> list[Problem]:
    """The corpus tables (``corpus``), or the per-document tables of the documents in ``tables``."""
    problems = []
    for name, schema in table_schemas(ctx.labels).items():
        if (name in CORPUS_TABLES) != corpus:
            continue
        table = getattr(tables, name)
        frame = pl.from_arrow(table.drop_columns(["text"]) if name == "documents" and "text" in table.column_names
                              else table)
        if "index" in frame.columns:
            frame = frame.rename({"index": "position"})
        if passes(schema, frame):
            continue
        try:
            schema.validate(frame, lazy=True)
        except pdr.errors.SchemaErrors as err:
            cases = err.failure_cases
            for case in cases.iter_rows(named=True):
                problems.append(_table_problem(ctx, name, frame, case, schema.unique))
        except Exception as err:  # noqa: BLE001 - a check that cannot run is reported, never a traceback
            problems.append(Problem(ctx.project.rel(ctx.project.annotations), 1, 1, "C001",
                                    f"{name} table: the table checks could not run ({type(err).__name__}: {err})",
                                    "please report this with the files of your change"))
    return problems


def passes(schema: pdr.DataFrameSchema, frame: pl.DataFrame) -> bool:
    """Whether pandera's ``schema.validate(frame)`` certainly finds nothing, in one query.

    True only for a frame with exactly the schema's columns and dtypes (nothing to coerce),
    whose every column check, dataframe check, non-null and uniqueness constraint holds on
    every row: each check runs through its own function, as pandera runs it (``ignore_na``
    included), all in one collect. False where any of that fails, and for any schema feature
    this does not model (element-wise or grouped checks, regex columns, parsers): pandera decides.
    """
    if schema.dtype is not None or schema.parsers or schema.add_missing_columns or schema.drop_invalid_rows \
            or set(frame.columns) != set(schema.columns):
        return False
    lazy, outputs, constraints = frame.lazy(), [], []
    checks = [(None, check) for check in schema.checks]
    for name, column in schema.columns.items():
        if column.regex or column.parsers or column.drop_invalid_rows or frame.schema[name] != column.dtype.type:
            return False
        if frame.schema[name].is_float():  # (pandera counts NaN as null in a non-nullable column; none here)
            return False
        if not column.nullable:
            constraints.append(pl.col(name).is_not_null().all())
        if column.unique:
            constraints.append(pl.col(name).is_unique().all())
        checks += [(name, check) for check in column.checks]
    if schema.unique:
        constraints.append(pl.struct(schema.unique).is_unique().all())
    for i, (key, check) in enumerate(checks):
        if check.element_wise or check.groupby is not None or check._check_fn is None:
            return False
        out = check._check_fn(PolarsData(lazy, key or "*"), **check._check_kwargs)
        if isinstance(out, bool):
            if not out:
                return False
            continue
        ok = pl.all().or_(pl.all().is_null()) if check.ignore_na else pl.all().fill_null(False)
        outputs.append(out.select(ok.all().name.prefix(f"{i}:")))
    constraints = [c.alias(f"constraint {i}") for i, c in enumerate(constraints or [pl.lit(True)])]
    verdicts = pl.concat([lazy.select(constraints), *outputs], how="horizontal").collect()
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
