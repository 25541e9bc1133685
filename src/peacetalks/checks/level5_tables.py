"""Level 5, corpus tables: pandera schemas over the flattened tables (C001).

Incidents: a column with the wrong dtype or a value outside its set or range, a row that
breaks uniqueness (one registry entity per Wikidata id, one quote per content and speaker),
and the per-document consistency checks of ``model/tables.py``. Run only where levels 1-4
found no error (a document's tables on each shard, the corpus tables over the corpus), since
their failures would repeat here.
"""

from __future__ import annotations

import pandera.polars as pdr
import polars as pl

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
