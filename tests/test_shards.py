"""checks/shards.py: the helpers of a shard's work (the work itself is tested through validate and build)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from peacetalks.checks.shards import _by_id


@pytest.mark.parametrize("ids", [["b", "a", "c"], ["c", "b", "a"], ["a", "c", "b"]])
def test_records_out_of_order_are_put_in_id_order(ids):
    table = pa.table({"id": ids, "n": list(range(len(ids)))})
    records = pa.array([{"document": d, "n": n} for n, d in enumerate(ids)])
    assert _by_id(table, "id").column("id").to_pylist() == sorted(ids)
    got = _by_id(records, "document")
    assert got.field("document").to_pylist() == sorted(ids)
    assert [ids[n] for n in got.field("n").to_pylist()] == sorted(ids)  # (whole records moved)


@pytest.mark.parametrize("ids", [[], ["a"], ["a", "b", "c"]])
def test_records_in_order_are_not_copied(ids):
    table = pa.table({"id": pa.array(ids, pa.string())})
    records = pa.array([{"document": d} for d in ids], pa.struct([("document", pa.string())]))
    assert _by_id(table, "id") is table
    assert _by_id(records, "document") is records


def test_records_in_order_in_several_pieces_come_back_in_one():
    """(as a take gives them: the release counts its sizes by chunk, so a build from the cache, whose
    documents are pieces of the cache and of the files read now, writes the same card)"""
    table = pa.concat_tables([pa.table({"id": ["a", "b"]}), pa.table({"id": ["c"]})])
    got = _by_id(table, "id")
    assert got.column("id").num_chunks == 1 and got.column("id").to_pylist() == ["a", "b", "c"]
