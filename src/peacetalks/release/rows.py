"""The rows of the release's configs, made per shard of documents (and the entities once, from counts).

One shard's documents give their rows of the ``documents``, ``mentions``, ``events``,
``quotes`` and ``ner`` configs (``shard_rows``, in the workers); the ``entities`` config is
the registry with the mention counts summed over the shards (``entity_rows``). Every row
is cast to its config's features, whose label columns are ClassLabels read from
labels.json and whose layer entries come from the layer table.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, Features, List, Value

from ..model.labels import Labels
from ..model.layers import LAYER_TABLE, Layer, Lookup, SpanPart
from ..reading.annotations import Tables
from .layout import CONFIGS
from .parquet import conform


def item_features(layer: Layer, labels: Labels) -> dict:
    """One entry of a layer as the release's configs hold it, read from the layer table: its spans
    flattened to ``<prefix>start``, ``<prefix>end``, ``<prefix>text``, its label columns as ClassLabels
    of their inventories (``A|B``: the inventories one after the other), arguments with their roles."""
    out: dict = {}
    for f in layer.struct:
        part = next((p for p in layer.spans if p.key == f.name), None)
        if part is not None:
            prefix = part.prefix if part.release_prefix is None else part.release_prefix
            out.update({f"{prefix}start": Value("int64"), f"{prefix}end": Value("int64"), f"{prefix}text": Value("string")})
        elif f.name in layer.labels:
            out[f.name] = ClassLabel(names=_names(labels, layer.labels[f.name]))
        elif f.name == "arguments":
            out[f.name] = List({"role": ClassLabel(names=labels.roles), "mention": Value("string")})
        else:
            out[f.name] = Value("int64") if pa.types.is_integer(f.type) else Value("string")
    return out


def features(labels: Labels) -> dict[str, Features]:
    """The typed features of every config; every label field is a ClassLabel read from labels.json, and
    every layer's entry comes from the layer table."""
    s, i = Value("string"), Value("int64")
    item = {layer.name: item_features(layer, labels) for layer in LAYER_TABLE}
    meta = {"title": s, "date": s, "outlet": s, "author": s, "url": s}
    out = {
        "documents": Features({"id": s, **meta, "text": s, **{name: List(f) for name, f in item.items()}}),
        "entities": Features({"id": s, "name": s, "type": ClassLabel(names=labels.entity_types), "wikidata": s,
                              "wikidata_verified": Value("bool"), "aliases": List(s), "mentions": i, "documents": i}),
        "ner": Features({"id": s, "document": s, "sentence": i, "tokens": List(s),
                         "ner_tags": List(ClassLabel(names=labels.ner_tags))}),
    }
    out |= {layer.name: Features({"document": s, **item[layer.name], **{k.column: s for k in layer.lookups}})
            for layer in LAYER_TABLE if layer.config}
    return {config: out[config] for config in CONFIGS}


def verified(entities: pl.DataFrame) -> pl.Expr:
    """``wikidata_verified``: the Wikidata id is the one the last online check passed (null: no id)."""
    same = (pl.col("wikidata_checked").struct.field("wikidata") == pl.col("wikidata")).fill_null(False)
    return pl.when(pl.col("wikidata").is_null()).then(None).otherwise(same).alias("wikidata_verified")


def _encode(frame: pl.DataFrame, columns: dict[str, list[str]]) -> pl.DataFrame:
    """Label strings to ClassLabel ids (-1 where there is no label), vectorised."""
    return frame.with_columns([
        pl.col(c).replace_strict(names, list(range(len(names))), default=None, return_dtype=pl.Int64).fill_null(-1)
        for c, names in columns.items()
    ])


def document_numbers(table: pa.Table, ids: pa.ChunkedArray | pa.Array, column: str = "document") -> np.ndarray:
    """Each row's document as its row number in the documents table (or another column's value as its index)."""
    return pc.index_in(table.column(column), value_set=ids).to_numpy(zero_copy_only=False).astype(np.int64)


def shard_rows(t: Tables, labels: Labels, ner: pa.Table) -> dict[str, pa.Table]:
    """The rows of the documents in ``t`` (a shard, with the registries) in every config but ``entities``,
    in a stable order (documents by id, annotations by their index), cast to the features."""
    feats = features(labels)
    # every layer's table with its labels as ClassLabel ids and its spans under their release names
    layers = {}
    for layer in LAYER_TABLE:
        frame = _encode(pl.from_arrow(getattr(t, layer.name)),
                        {column: _names(labels, key) for column, key in layer.labels.items()})
        for part in layer.spans:
            if part.release_prefix is not None:
                frame = frame.rename(dict(zip(part.columns(), SpanPart(part.key, part.release_prefix).columns())))
        layers[layer.name] = frame
    arguments = _encode(pl.from_arrow(t.arguments), {"role": labels.roles})

    # nesting by list offsets: every table is in document order (arguments in event order), so
    # each parent's children are one run of rows; a parent without children gets an empty list
    ids = t.documents.column("id")
    events = layers["events"]
    width = (events["index"].max() or 0) + 1
    event_keys = document_numbers(t.events, ids) * width + events["index"].to_numpy()
    argument_keys = document_numbers(t.arguments, ids) * width + arguments["event_index"].to_numpy()
    nested = {name: frame.to_arrow() for name, frame in layers.items()}
    nested["events"] = nested["events"].append_column(
        "arguments", _nest(event_keys, argument_keys, arguments.select("role", "mention").to_arrow()))
    documents = t.documents.select(["id", "title", "date", "outlet", "author", "url", "text"])
    parents = np.arange(t.documents.num_rows, dtype=np.int64)
    for layer in LAYER_TABLE:  # each document's entries of every layer, as the layer table describes one
        columns = list(item_features(layer, labels))
        documents = documents.append_column(layer.name, _nest(parents, document_numbers(getattr(t, layer.name), ids),
                                                              nested[layer.name].select(columns)))

    frames = {"documents": documents, "ner": ner}
    for layer in LAYER_TABLE:  # each layer's own config: its entries, with the columns its lookups add
        if layer.config:
            frame = nested[layer.name]
            for k in layer.lookups:
                frame = _look_up(frame, k, layers.get(k.table), t)
            frames[layer.name] = frame
    tables = {}
    for name, frame in frames.items():
        arrow = frame.select(list(feats[name].keys()))
        tables[name] = _cast(arrow if isinstance(arrow, pa.Table) else arrow.to_arrow(), feats[name])
    return tables


def _look_up(frame: pa.Table, lookup: Lookup, layer: pl.DataFrame | None, t: Tables) -> pa.Table:
    """``frame`` with the column of ``lookup``: from another layer's entries of the same document
    (``layer``), or from a registry of ``t``."""
    if layer is not None:
        source, on = layer.select("document", pl.col(lookup.key).alias(lookup.via),
                                  pl.col(lookup.value).alias(lookup.column)), ["document", lookup.via]
    else:
        source, on = pl.from_arrow(getattr(t, lookup.table)).select(
            pl.col(lookup.key).alias(lookup.via), pl.col(lookup.value).alias(lookup.column)), [lookup.via]
    return pl.from_arrow(frame).join(source, on=on, how="left", maintain_order="left").to_arrow()


def entity_rows(registry: pa.Table, counts: pl.DataFrame, labels: Labels) -> pa.Table:
    """The ``entities`` config: the registry, each entity with its mentions and documents (``counts``:
    entity, mentions, documents, summed over the corpus)."""
    entities = pl.from_arrow(registry)
    frame = _encode(entities.join(counts.select("entity", "mentions", "documents"), left_on="id", right_on="entity",
                                  how="left", maintain_order="left")
                    .with_columns(pl.col("mentions", "documents").fill_null(0), verified(entities)),
                    {"type": labels.entity_types})
    feats = features(labels)["entities"]
    return _cast(frame.select(list(feats.keys())).to_arrow(), feats)


def _names(labels: Labels, key: str) -> list[str]:
    """The label names of an inventory key of the layer table (``A|B``: the inventories one after the other)."""
    return [name for part in key.split("|") for name in labels[part].names]


def _nest(parents: np.ndarray, children: np.ndarray, values: pa.Table) -> pa.ListArray:
    """The rows of ``values`` as one list per parent: ``parents`` and ``children`` are sorted keys, one per row."""
    offsets = np.searchsorted(children, np.append(parents, np.iinfo(np.int64).max)).astype(np.int32)
    struct = pa.StructArray.from_arrays([c.combine_chunks() for c in values.columns], values.column_names)
    return pa.ListArray.from_arrays(pa.array(offsets), struct)


def _cast(table: pa.Table, feats: Features) -> pa.Table:
    """A table with exactly the features' Arrow schema (empty lists where a document has none)."""
    return conform(table, feats.arrow_schema)


def ner_empty() -> pa.Table:
    return pa.table({"id": pa.array([], pa.string()), "document": pa.array([], pa.string()),
                     "sentence": pa.array([], pa.int64()), "tokens": pa.array([], pa.list_(pa.string())),
                     "ner_tags": pa.array([], pa.list_(pa.int64()))})


