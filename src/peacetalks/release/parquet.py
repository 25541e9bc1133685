"""How release tables take their final form and are written: the features' Arrow schema, zstd Parquet.

Used by the build (every config), by its second process (the ``ner`` config, see
``helper.py``) and by scripts/bench.py's floor, so that all write alike.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..defaults import PARQUET_ZSTD_LEVEL


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A table with exactly this Arrow schema (empty lists where a row has none)."""
    columns = []
    for field in schema:
        column = table.column(field.name)
        if (pa.types.is_list(field.type) or pa.types.is_large_list(field.type)) and column.null_count:
            column = pc.if_else(pc.is_null(column), pa.scalar([], type=column.type), column)
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def write_parquet(table: pa.Table, path: Path | str) -> None:
    """One release Parquet file (its folder made if needed)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, str(path), compression="zstd", compression_level=PARQUET_ZSTD_LEVEL, use_dictionary=True,
                   write_statistics=True, store_schema=True)
