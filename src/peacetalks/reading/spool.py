"""Tables handed from one process, or one pass, to another through Arrow IPC files.

A worker's shard of release rows goes to the process that writes the release (``release/build.py``);
a shard's texts and names go to the second pass of the corpus-level warnings
(``checks/validate.py``); a shard's new entries of the validation cache wait in one until the
cache's segment is written (``reading/cache.py``'s ``NewEntries``, read there rather than mapped).
An IPC file is written once and memory-mapped where it is read: 25 MB of rows of 1,000 documents
took ~40 ms of both processes through the pool's pipe (pickled, copied, unpickled); an IPC file
takes ~8 ms to write, and nothing to read. What is spooled is not held in
memory meanwhile.
"""

from __future__ import annotations

import os
import tempfile

import pyarrow as pa


def spool(tables: dict[str, pa.Table], folder: str) -> dict[str, str]:
    """Each table in an Arrow IPC file of its own in ``folder`` (a new file each, never one that exists)."""
    paths = {}
    for name, table in tables.items():
        handle, path = tempfile.mkstemp(suffix=".arrow", dir=folder)
        with open(handle, "wb", closefd=True) as f, pa.ipc.new_file(f, table.schema) as writer:
            writer.write_table(table)
        paths[name] = path
    return paths


def map_spooled(paths: dict[str, str]) -> dict[str, pa.Table]:
    """The tables of ``spool``, memory-mapped (read as often as needed; the folder's owner removes the files)."""
    tables = {}
    for name, path in paths.items():
        with pa.memory_map(path) as source:
            tables[name] = pa.ipc.open_file(source).read_all()
    return tables


def unspool(paths: dict[str, str]) -> dict[str, pa.Table]:
    """The tables of ``spool``, memory-mapped, read once: their files are removed (the mappings stay valid)."""
    tables = map_spooled(paths)
    for path in paths.values():
        os.remove(path)
    return tables
