"""Stage 5, build: validate, then write the versioned release, atomically and reproducibly.

A release folder is a Hugging Face dataset repository:

    README.md              dataset card (Hub YAML: configs, dataset_info, license, ...)
    manifest.json          version, schema version, counts, sha256 of every file and seed
    croissant.json         MLCommons Croissant 1.0 metadata
    data/<config>/train-00000-of-00001.parquet   one zstd Parquet file per config

The same inputs give byte-identical files: rows in a fixed order, no timestamps.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, Features, List, Value

from .. import __version__
from ..checks.validate import Result, validate
from ..model.labels import Labels
from ..model.layers import LAYER_TABLE, Layer
from ..model.schemas import Schemas
from ..reading.files import (
    check_output,
    dump_json,
    put_in_place,
    sha256_file,
    temp_dir_beside,
)
from ..reading.ingest import read_checksums
from ..reading.project import Project
from .card import ANNOTATIONS_LICENSE, LICENSE_FILE, license_text, render_card
from .layout import CONFIGS, SPLIT, parquet_path
from .ledger import LedgerError, build_version, check_version
from .parquet import conform, write_parquet
from .shards import build_shard, document_numbers
from .stats import compute as compute_stats


class BuildError(Exception):
    """The build refused or failed; the message says why and nothing was written."""


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
            out[f.name] = ClassLabel(names=[n for key in layer.labels[f.name].split("|") for n in labels[key].names])
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
    return {
        "documents": Features({"id": s, **meta, "text": s, **{name: List(f) for name, f in item.items()}}),
        "mentions": Features({"document": s, **item["mentions"], "wikidata": s}),
        "entities": Features({"id": s, "name": s, "type": ClassLabel(names=labels.entity_types), "wikidata": s,
                              "wikidata_verified": Value("bool"), "aliases": List(s), "mentions": i, "documents": i}),
        "events": Features({"document": s, **item["events"]}),
        "quotes": Features({"document": s, **item["quotes"], "speaker_entity": s}),
        "ner": Features({"id": s, "document": s, "sentence": i, "tokens": List(s),
                         "ner_tags": List(ClassLabel(names=labels.ner_tags))}),
    }


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


def release_tables(result: Result, ner: bool = True) -> dict[str, pa.Table]:
    """The table of every config, rows in a stable order, cast to its features (``ner`` last, or not at all)."""
    t, labels = result.tables, result.labels  # rows already in (document, index) order: see ``flatten``
    feats = features(labels)
    entities = pl.from_arrow(t.entities)
    mentions = _encode(pl.from_arrow(t.mentions), {
        "type": labels.mention_types, "level": labels["MentionLevel"].names})
    events = _encode(pl.from_arrow(t.events), {
        "type": labels["EventType"].names, "realis": labels["Realis"].names, "modality": labels["Modality"].names})
    arguments = _encode(pl.from_arrow(t.arguments), {"role": labels.roles})
    quotes = _encode(pl.from_arrow(t.quotes), {"kind": labels["QuoteKind"].names})
    flags = _encode(pl.from_arrow(t.flags), {"code": labels["FlagCode"].names}).rename(
        {"span_start": "start", "span_end": "end", "span_text": "text"})

    event_cols = list(feats["events"].keys())
    mention_cols = [c for c in feats["mentions"] if c != "wikidata"]
    quote_cols = [c for c in feats["quotes"] if c != "speaker_entity"]
    flag_cols = ["document", "code", "note", "start", "end", "text"]

    # nesting by list offsets: every table is in document order (arguments in event order), so
    # each parent's children are one run of rows; a parent without children gets an empty list
    ids = t.documents.column("id")
    width = (events["index"].max() or 0) + 1
    event_keys = document_numbers(t.events, ids) * width + events["index"].to_numpy()
    argument_keys = document_numbers(t.arguments, ids) * width + arguments["event_index"].to_numpy()
    events = events.to_arrow()
    events = events.append_column("arguments", _nest(event_keys, argument_keys, arguments.select("role", "mention").to_arrow()))
    documents = t.documents.select(["id", "title", "date", "outlet", "author", "url", "text"])
    parents = np.arange(t.documents.num_rows, dtype=np.int64)
    for frame, table, cols, name in ((flags.to_arrow(), t.flags, flag_cols, "flags"),
                                     (mentions.to_arrow(), t.mentions, mention_cols, "mentions"),
                                     (events, t.events, event_cols, "events"), (quotes.to_arrow(), t.quotes, quote_cols, "quotes")):
        documents = documents.append_column(name, _nest(parents, document_numbers(table, ids), frame.select(cols[1:])))

    mention_entity = mentions.select("document", pl.col("id").alias("speaker"), pl.col("entity").alias("speaker_entity"))
    counts = mentions.group_by("entity").agg(pl.len().alias("mentions"), pl.col("document").n_unique().alias("documents"))
    frames = {
        "documents": documents,
        "mentions": mentions.join(entities.select(pl.col("id").alias("entity"), "wikidata"), on="entity",
                                  how="left", maintain_order="left").select(list(feats["mentions"].keys())),
        "entities": _encode(entities.join(counts, left_on="id", right_on="entity", how="left", maintain_order="left")
                            .with_columns(pl.col("mentions", "documents").fill_null(0), verified(entities)),
                            {"type": labels.entity_types}),
        "events": events.select(event_cols),  # (Arrow tables already)
        "quotes": quotes.join(mention_entity, on=["document", "speaker"], how="left", maintain_order="left")
                        .select(list(feats["quotes"].keys())),
    }
    tables = {}
    for name, frame in frames.items():
        arrow = frame.select(list(feats[name].keys()))
        tables[name] = _cast(arrow if isinstance(arrow, pa.Table) else arrow.to_arrow(), feats[name])
    if ner:
        tables["ner"] = ner_table(result)
    return tables


def _nest(parents: np.ndarray, children: np.ndarray, values: pa.Table) -> pa.ListArray:
    """The rows of ``values`` as one list per parent: ``parents`` and ``children`` are sorted keys, one per row."""
    offsets = np.searchsorted(children, np.append(parents, np.iinfo(np.int64).max)).astype(np.int32)
    struct = pa.StructArray.from_arrays([c.combine_chunks() for c in values.columns], values.column_names)
    return pa.ListArray.from_arrays(pa.array(offsets), struct)


def ner_table(result: Result) -> pa.Table:
    """conll2003-style rows: one sentence, its tokens and BIO tags of its named and time mentions; the
    shards' rows (``shards.build_shard``) one after the other, in document order."""
    pieces = [extra["ner"] for extra in result.extras if "ner" in extra]
    table = _as_from_ipc(pa.concat_tables(pieces).combine_chunks() if pieces else ner_empty())
    return _cast(table, features(result.labels)["ner"])


def _as_from_ipc(table: pa.Table) -> pa.Table:
    """The table as it reads back from an Arrow IPC file: one chunk, and the same buffers (no all-valid
    bitmaps) whichever process made its rows, so that its size in the card does not depend on that."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return pa.ipc.open_file(sink.getvalue()).read_all()


def _cast(table: pa.Table, feats: Features) -> pa.Table:
    """A table with exactly the features' Arrow schema (empty lists where a document has none)."""
    return conform(table, feats.arrow_schema)


def ner_empty() -> pa.Table:
    return pa.table({"id": pa.array([], pa.string()), "document": pa.array([], pa.string()),
                     "sentence": pa.array([], pa.int64()), "tokens": pa.array([], pa.list_(pa.string())),
                     "ner_tags": pa.array([], pa.list_(pa.int64()))})


@dataclass
class Release:
    path: Path
    version: str
    counts: dict
    unchanged: bool = False

    def summary(self) -> str:
        state = "is already built and identical" if self.unchanged else "written"
        lines = [f"peacetalks {self.version}: release {state} at {self.path}"]
        if "-dev." in self.version:
            lines.append("  (a development build: this content is not a released version; "
                         "`peacetalks release VERSION` records one)")
        lines += [f"  {k}: {v}" for k, v in self.counts.items()]
        lines += ["Load it with:",
                  "  from datasets import load_dataset",
                  f"  ds = load_dataset({str(self.path)!r}, 'documents')   # or mentions, entities, events, quotes, ner"]
        return "\n".join(lines)


def build(project: Project, out: Path | None = None, force: bool = False, cache: bool = False,
          version: str | None = None, site: bool = False, jobs: int | None = None) -> Release:
    """Validate (errors only), then write the release to a temporary folder and move it into place.

    The per-document work (levels 1-3 and the ``ner`` rows, ``shards.build_shard``) runs on
    shards of documents in ``jobs`` processes (None: every core for a large corpus, see
    ``checks.runner``); nothing is visible at ``out`` until every file is complete.
    """
    try:  # a released version is stamped only on its recorded content (see ledger.py)
        if version is None:
            version, _ = build_version(project, __version__)
        else:
            check_version(project, version)
    except LedgerError as e:
        raise BuildError(f"peacetalks build: {e}") from None
    out = (out or project.workdir / "release" / version).resolve()
    check_output(out, is_release, "a peacetalks release (it has no peacetalks manifest.json)")
    tmp = None
    try:
        # errors refuse the build; warnings are validate's
        result = validate(project, cache=cache, lints=False, jobs=jobs, shard_function=build_shard)
        if not result.ok:
            n = len(result.errors)
            raise BuildError("peacetalks build: the corpus has errors; nothing was written.\n"
                             + "\n".join(p.render() for p in result.errors)
                             + f"\nFound {n} error{'s' * (n != 1)}. `peacetalks validate` shows the warnings too.")
        tmp = temp_dir_beside(out)
        tables = release_tables(result)
        _write_tables(tables, tmp)
        stats = compute_stats(result)  # for the card
        counts = _write_release(project, result, tables, tmp, version, site, stats)
        if is_release(out):
            if _same_release(out, tmp):
                return Release(out, version, counts, unchanged=True)
            if not force:
                raise BuildError(
                    f"peacetalks build: {out} already holds a peacetalks release with different contents; "
                    "releases are immutable. Bump the version in src/peacetalks/__init__.py or build elsewhere "
                    "with --out (--force replaces this release).")
        put_in_place(tmp, out)
    finally:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return Release(out, version, counts)


def is_release(folder: Path) -> bool:
    """Whether ``folder`` is a release that ``build`` wrote: it has a peacetalks ``manifest.json``."""
    try:
        manifest = orjson.loads((folder / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(manifest, dict) and manifest.get("name") == "peacetalks" and isinstance(manifest.get("files"), dict)


def _same_release(a: Path, b: Path) -> bool:
    def listing(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}
    return listing(a) == listing(b)


def _write_tables(tables: dict[str, pa.Table], out: Path) -> None:
    for config, table in tables.items():
        write_parquet(table, out / parquet_path(config))


def _write_release(project: Project, result: Result, tables: dict[str, pa.Table], out: Path, version: str,
                   site: bool = False, stats: dict | None = None) -> dict:
    """Everything but the Parquet files (``_write_tables``): card, Croissant, manifest."""
    labels = result.labels
    feats = features(labels)
    counts = {
        "documents": tables["documents"].num_rows,
        "mentions": tables["mentions"].num_rows,
        "entities": tables["entities"].num_rows,
        "events": tables["events"].num_rows,
        "event_arguments": result.tables.arguments.num_rows,
        "quotes": tables["quotes"].num_rows,
        "flags": result.tables.flags.num_rows,
        "sentences": tables["ner"].num_rows,
        "tokens": int(pc.sum(pc.list_value_length(tables["ner"].column("tokens"))).as_py() or 0),
    }
    layers = (result.project.layers.exists() and orjson.loads(result.project.layers.read_bytes())) or {}
    data_files = {parquet_path(c): sha256_file(out / parquet_path(c)) for c in CONFIGS}
    (out / LICENSE_FILE).write_text(license_text(version), encoding="utf-8")
    (out / "README.md").write_text(render_card(result, tables, feats, counts, layers, version, stats), encoding="utf-8")
    (out / "croissant.json").write_bytes(dump_json(_croissant(tables, feats, version, data_files)))
    if site:  # the static viewer for reviewers, listed in the manifest like every file
        from ..tools.view import write_site
        write_site(result, out / "site")
    files = {p.relative_to(out).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
             for p in sorted(out.rglob("*")) if p.is_file()}
    manifest = {
        "name": "peacetalks",
        "version": version,
        "schema_version": labels.schema_version,
        "splits": {SPLIT: "all documents (one split; splits are made on document boundaries)"},
        "configs": {c: {"path": parquet_path(c), "rows": tables[c].num_rows} for c in CONFIGS},
        "counts": counts,
        "layers": layers.get("layers", {}),
        "seeds": dict(sorted(read_checksums(project).items())),
        "files": files,
    }
    errors = Schemas(project.schema).errors("manifest", manifest)
    if errors:
        raise BuildError("peacetalks build: internal error, the manifest does not match schema/manifest.json: "
                         + "; ".join(f"{e.pointer}: {e.message}" for e in errors))
    (out / "manifest.json").write_bytes(dump_json(manifest))
    return counts


_CROISSANT_CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"}, "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/", "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract",
    "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet",
    "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath",
    "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
    "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
    "sc": "https://schema.org/", "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField",
    "transform": "cr:transform",
}


def _croissant(tables: dict[str, pa.Table], feats: dict[str, Features], version: str, data_files: dict) -> dict:
    """Croissant 1.0: a FileObject per Parquet file, a RecordSet per config with its scalar and list columns."""
    distribution, record_sets = [], []
    for config in CONFIGS:
        file_id = f"{config}-parquet"
        distribution.append({"@type": "cr:FileObject", "@id": file_id, "name": file_id,
                             "contentUrl": parquet_path(config), "encodingFormat": "application/x-parquet",
                             "sha256": data_files[parquet_path(config)]})
        fields = []
        for name, feature in feats[config].items():
            inner, repeated = (feature.feature, True) if isinstance(feature, List) else (feature, False)
            if isinstance(inner, ClassLabel) or (isinstance(inner, Value) and inner.dtype == "int64"):
                dtype = "sc:Integer"
            elif isinstance(inner, Value):
                dtype = "sc:Text"
            else:
                continue  # nested records are described by the card and the Parquet schema
            field = {"@type": "cr:Field", "@id": f"{config}/{name}", "name": name, "dataType": dtype,
                     "source": {"fileObject": {"@id": file_id}, "extract": {"column": name}}}
            if isinstance(inner, ClassLabel):
                field["description"] = "ClassLabel id: " + ", ".join(f"{k}={v}" for k, v in enumerate(inner.names))
            if repeated:
                field["repeated"] = True
            fields.append(field)
        record_sets.append({"@type": "cr:RecordSet", "@id": config, "name": config, "field": fields})
    return {
        "@context": _CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "name": "peacetalks",
        "description": "English news on European diplomacy around the Russia-Ukraine peace talks (2025-2026), "
                       "with hand-curated entity mentions linked to a registry and Wikidata, time expressions, "
                       "events with arguments, and attributed quotes.",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "citeAs": "peacetalks corpus, version " + version,
        "license": [ANNOTATIONS_LICENSE, LICENSE_FILE],  # annotations CC BY 4.0; texts: see LICENSE.md
        "url": "https://huggingface.co/datasets/peacetalks/peacetalks",
        "version": version,
        "distribution": distribution,
        "recordSet": record_sets,
    }
