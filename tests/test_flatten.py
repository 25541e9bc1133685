"""reading.annotations.flatten: the same tables whatever the records' chunks and slices."""

import pyarrow as pa
import pytest
from conftest import ROOT

from peacetalks.diagnostics.locate import Locator
from peacetalks.model.layers import DOCUMENT
from peacetalks.model.schemas import Schemas
from peacetalks.reading.annotations import flatten, list_documents, read_document
from peacetalks.reading.corpus import documents_table, list_corpus, read_documents
from peacetalks.reading.project import Project

NAMES = ("documents", "mentions", "events", "arguments", "quotes", "flags")


@pytest.fixture(scope="module")
def corpus():
    project = Project(ROOT)
    schemas = Schemas(project.schema)
    ids, _ = list_corpus(project)
    files, _ = list_documents(project, schemas)
    locator = Locator()
    docs, _ = read_documents(project, schemas, locator, ids)
    records = [read_document(project, schemas, locator, d, files[d])[0] for d in ids if d in files]
    return pa.array(records, type=DOCUMENT), documents_table(docs)


def rows(tables):
    return {name: getattr(tables, name).to_pylist() for name in NAMES}


def pieces(array: pa.Array, cuts: list[int]) -> list[pa.Array]:
    bounds = [0, *cuts, len(array)]
    return [array.slice(a, b - a) for a, b in zip(bounds, bounds[1:])]


def test_slices_in_chunks_flatten_as_the_whole(corpus):
    """Slices of a records array (offsets not starting at 0) as chunks: the same rows, indexes from 0."""
    records, documents = corpus
    whole = rows(flatten(records, documents))
    n = len(records)
    for cuts in ([], [1], [n // 2], [1, n - 1], list(range(1, n))):
        chunked = pa.chunked_array(pieces(records, cuts), DOCUMENT)
        assert rows(flatten(chunked, documents)) == whole, cuts
    middle = records.slice(1, n - 2)  # one slice alone: the documents it holds
    kept = set(middle.field("document").to_pylist())
    assert {r["document"] for r in rows(flatten(middle, documents))["mentions"]} <= kept
    assert all(r["index"] >= 0 for r in rows(flatten(middle, documents))["mentions"])


def test_chunks_out_of_order_or_unknown_documents_are_put_in_order(corpus):
    records, documents = corpus
    whole = rows(flatten(records, documents))
    if len(records) < 2:
        pytest.skip("needs two documents")
    swapped = pa.chunked_array(list(reversed(pieces(records, [1]))), DOCUMENT)
    assert rows(flatten(swapped, documents)) == whole
    fewer = documents.slice(1)  # the first document is not among the documents: its records are left out
    assert all(r["document"] != records[0]["document"].as_py()
               for r in rows(flatten(pa.chunked_array(pieces(records, [1]), DOCUMENT), fewer))["mentions"])
    assert rows(flatten(pa.chunked_array([], DOCUMENT), documents.slice(0, 0)))["mentions"] == []


@pytest.mark.parametrize("layers", [(), ("mentions",), ("events",), ("mentions", "quotes")])
def test_only_the_layers_asked_for_are_flattened(corpus, layers):
    """``flatten(..., layers)``: the layers named (with their entries' lists) as in the whole, the
    others empty with the same columns; in one array or in chunks alike."""
    from peacetalks.reading.annotations import CHILDREN, DOCUMENT_TABLES
    records, documents = corpus
    whole = flatten(records, documents)
    wanted = set(layers) | {child for layer, child, _ in CHILDREN if layer in layers}
    for given in (records, pa.chunked_array(pieces(records, [len(records) // 2]), DOCUMENT)):
        some = flatten(given, documents, layers)
        assert some.documents.equals(whole.documents)
        for name in DOCUMENT_TABLES:
            table, full = getattr(some, name), getattr(whole, name)
            assert table.schema == full.schema, name
            assert table.to_pylist() == (full.to_pylist() if name in wanted else []), name
