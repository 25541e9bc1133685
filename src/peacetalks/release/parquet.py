"""How release tables take their final form and are written: the features' Arrow schema, zstd Parquet.

Used by the build (every config, shard by shard: ``ConfigWriter``) and by scripts/bench.py's
floor, so that all write alike.
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


#: the Parquet settings of every release file
SETTINGS = {"compression": "zstd", "compression_level": PARQUET_ZSTD_LEVEL, "use_dictionary": True,
            "write_statistics": True, "store_schema": True}


def write_parquet(table: pa.Table, path: Path | str) -> None:
    """One release Parquet file (its folder made if needed)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, str(path), **SETTINGS)


def ipc_size(table: pa.Table) -> int:
    """The bytes of a table in Arrow's IPC format, uncompressed (the card's ``num_bytes``): its size
    in memory once read, without the all-valid bitmaps that ``Table.nbytes`` counts or not
    depending on how the arrays were made (in this process, or pickled from a worker), and
    computed without copying (Arrow serialises to a counting stream)."""
    return sum(pa.ipc.get_record_batch_size(batch) for batch in table.to_batches())


class ConfigWriter:
    """The release's Parquet files, written a part at a time: each ``write`` is one row group, so
    that no process holds a whole config. Files with the same parts in the same order are the
    same bytes. ``rows`` and ``nbytes`` per config: the size of what was written in Arrow's IPC
    format (``ipc_size``)."""

    def __init__(self, paths: dict[str, Path], schemas: dict[str, pa.Schema]) -> None:
        self.paths, self.schemas = paths, schemas
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows = dict.fromkeys(paths, 0)
        self.nbytes = dict.fromkeys(paths, 0)

    def write(self, config: str, table: pa.Table) -> None:
        if config not in self._writers:
            self.paths[config].parent.mkdir(parents=True, exist_ok=True)
            self._writers[config] = pq.ParquetWriter(str(self.paths[config]), self.schemas[config], **SETTINGS)
        self._writers[config].write_table(table, row_group_size=max(1, table.num_rows))
        self.rows[config] += table.num_rows
        self.nbytes[config] += ipc_size(table)

    def close(self) -> None:
        """Finish every file (a config that got no part is written empty)."""
        for config in self.paths:
            if config not in self._writers:
                self.write(config, self.schemas[config].empty_table())
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
