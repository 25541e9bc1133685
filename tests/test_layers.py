"""model/layers.py: the layer table agrees with the schema, the files fmt writes, the flat tables and the diff."""

import json

import pyarrow as pa
from conftest import ROOT

from peacetalks.checks.validate import validate
from peacetalks.model.layers import DOCUMENT, LAYER, LAYER_TABLE, LAYERS, SPAN
from peacetalks.reading.project import Project
from peacetalks.release.versions import _from_project
from peacetalks.tools.fmt import ORDER


def test_each_layer_struct_lists_its_file_keys_in_order_and_its_spans_are_spans():
    for layer in LAYER_TABLE:
        assert [f.name for f in layer.struct] == list(layer.keys), layer.name
        for part in layer.spans:
            if part.key is not None:
                assert layer.struct.field(part.key).type == SPAN, (layer.name, part.key)
        assert ORDER[layer.item] == list(layer.keys)
    assert [f.name for f in DOCUMENT] == ["document", *LAYERS]


def test_the_json_schema_has_the_same_layers_and_item_fields():
    schema = json.loads((ROOT / "schema" / "annotations.json").read_text("utf-8"))
    assert list(schema["properties"]) == ["document", *LAYERS]
    for layer in LAYER_TABLE:
        item = schema["$defs"][schema["properties"][layer.name]["items"]["$ref"].rsplit("/", 1)[1]]
        assert set(item["properties"]) - {"occurrence"} == set(layer.keys), layer.name


def test_flat_tables_have_every_span_column_and_diff_frames_every_identity_column(tmp_path):
    result = validate(Project(ROOT))
    snapshot = _from_project("here", ROOT)
    for layer in LAYER_TABLE:
        table: pa.Table = getattr(result.tables, layer.name)
        for part in layer.spans:
            assert set(part.columns()) <= set(table.column_names), (layer.name, part)
        frame = getattr(snapshot, layer.name)
        assert set(layer.identity) | set(layer.compared) | {layer.label} <= set(frame.columns), layer.name


def test_the_release_features_of_each_layer_come_from_the_table():
    from peacetalks.model.labels import Labels
    from peacetalks.release.rows import features, item_features
    labels = Labels(ROOT / "schema" / "labels.json")
    feats = features(labels)
    for layer in LAYER_TABLE:
        item = item_features(layer, labels)
        assert feats["documents"][layer.name].feature == item  # nested in the documents config
        for column, inventory in layer.labels.items():
            names = [n for key in inventory.split("|") for n in labels[key].names]
            assert item[column].names == names, (layer.name, column)
    assert list(feats["events"])[1:] == list(item_features(LAYER["events"], labels))


def test_each_layer_config_and_its_lookups_come_from_the_table(tmp_path):
    """A layer with ``config`` has a release config of its entries (document, the entry, its lookups'
    columns), in CONFIGS; each lookup column holds the looked-up value (a registry's, or another layer's
    entry of the same document)."""
    import pyarrow.parquet as pq

    from peacetalks.model.labels import Labels
    from peacetalks.release.build import build
    from peacetalks.release.layout import CONFIGS, parquet_path
    from peacetalks.release.rows import features, item_features
    labels = Labels(ROOT / "schema" / "labels.json")
    feats = features(labels)
    assert list(feats) == list(CONFIGS)
    for layer in LAYER_TABLE:
        assert (layer.name in CONFIGS) == layer.config, layer.name
        if layer.config:
            assert list(feats[layer.name]) == ["document", *item_features(layer, labels),
                                               *(k.column for k in layer.lookups)]
    release = build(Project(ROOT), tmp_path / "release").path
    result = validate(Project(ROOT), lints=False)
    tables = {name: getattr(result.tables, name).to_pylist()
              for name in ("mentions", "events", "quotes", "flags", "entities", "xdoc_events")}
    for layer in LAYER_TABLE:
        if not layer.config or not layer.lookups:
            continue
        rows = pq.read_table(release / parquet_path(layer.name)).to_pylist()
        assert len(rows) == len(tables[layer.name]) and rows
        for k in layer.lookups:
            if k.table in LAYER:  # within the entry's document
                found = {(r["document"], r[k.key]): r[k.value] for r in tables[k.table]}
                want = [found.get((r["document"], r[k.via])) for r in tables[layer.name]]
            else:
                found = {r[k.key]: r[k.value] for r in tables[k.table]}
                want = [found.get(r[k.via]) for r in tables[layer.name]]
            assert [r[k.column] for r in rows] == want, (layer.name, k.column)


def test_the_per_document_tables_are_the_layers_and_their_entries_lists():
    """``Tables`` holds the documents, one table per layer and per list inside a layer's entries (from the
    layer table), and the registries; reading, merging and slicing go over them all."""
    import dataclasses

    from peacetalks.reading.annotations import CHILDREN, DOCUMENT_TABLES, Tables
    assert set(DOCUMENT_TABLES) == set(LAYERS) | {child for _, child, _ in CHILDREN}
    assert {f.name for f in dataclasses.fields(Tables)} == {"documents", *DOCUMENT_TABLES, "entities", "xdoc_events"}
    assert ("events", "arguments", "event_index") in CHILDREN


def test_the_cards_label_inventories_are_a_section_per_layer_and_label_column():
    """The card's label inventories come from the layer table: a section per layer (its ``title``),
    a table per label column and inventory, each label with the count the statistics give; a layer's
    lists of entries (an event's arguments) are counted in its heading."""
    from peacetalks.model.labels import Labels
    from peacetalks.release.card import SHOWN_LAYERS, label_sections
    from peacetalks.release.stats import combine, partial
    labels = Labels(ROOT / "schema" / "labels.json")
    tables = validate(Project(ROOT), lints=False).tables
    summary = combine([partial(tables)], tables.entities, tables.xdoc_events, labels)
    counts = {name: getattr(tables, name).num_rows for name in LAYERS} | {"event_arguments": tables.arguments.num_rows}
    text = label_sections(labels, summary, counts)
    sections = text.split("\n### ")
    assert [s.split(" (`")[0].lstrip("# ") for s in sections] == [LAYER[name].title for name in SHOWN_LAYERS]
    for name, section in zip(SHOWN_LAYERS, sections):
        layer = LAYER[name]
        assert f"(`{name}`: {counts[name]}" in section
        for column, keys in layer.labels.items():
            for key in keys.split("|"):
                inventory = labels[key]
                table = section.split(f"**{inventory.title}** (`{column}`)")[1].split("\n\n**")[0]
                for label in inventory.labels:
                    row = next(line for line in table.splitlines() if line.startswith(f"| `{label.name}` |"))
                    assert row.endswith(f"| {summary.counts.get(f'{name}.{column}', {}).get(label.name, 0)} |"), row
    assert f"{tables.arguments.num_rows} arguments" in sections[SHOWN_LAYERS.index("events")]


def test_the_release_counts_every_layer_and_its_entries_lists(tmp_path):
    """The manifest's counts (and the card's) hold every layer of the layer table and every list inside
    its entries (``event_arguments``), each the number of rows of its table."""
    from peacetalks.reading.annotations import CHILDREN
    from peacetalks.release.build import build
    counts = build(Project(ROOT), tmp_path / "release").counts
    tables = validate(Project(ROOT), lints=False).tables
    want = {name: getattr(tables, name).num_rows for name in LAYERS}
    want |= {f"{LAYER[owner].item}_{child}": getattr(tables, child).num_rows for owner, child, _ in CHILDREN}
    assert {k: counts[k] for k in want} == want
    manifest = json.loads((tmp_path / "release" / "manifest.json").read_text("utf-8"))
    assert manifest["counts"] == counts
