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
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import orjson
import polars as pl
import pyarrow.compute as pc
from datasets import ClassLabel, Features, List, Value

from .. import __version__
from ..checks.validate import Result, validate
from ..model.labels import Labels
from ..model.layers import LAYER, SHOWN_LAYERS
from ..model.schemas import Schemas
from ..reading.files import (
    check_output,
    dump_json,
    gc_tuned,
    put_in_place,
    sha256_file,
    temp_dir_beside,
)
from ..reading.ingest import read_checksums
from ..reading.project import Project
from ..reading.spool import unspool
from .card import ANNOTATIONS_LICENSE, LICENSE_FILE, license_text, render_card
from .layout import CONFIGS, SPLIT, parquet_path
from .ledger import LedgerError, build_version, check_version
from .parquet import ConfigWriter
from .rows import entity_rows, features
from .shards import build_shard
from .stats import Summary, combine


class BuildError(Exception):
    """The build refused or failed; the message says why and nothing was written."""


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


@gc_tuned()
def build(project: Project, out: Path | None = None, force: bool = False, cache: bool = False,
          version: str | None = None, extra: Callable[[Result, Path], object] | None = None,
          jobs: int | None = None) -> Release:
    """Validate (errors only) and write the release to a temporary folder, then move it into place.

    ``extra`` writes more files into the release's folder (given the validation's result and the
    folder): `peacetalks build --site` passes the viewer's (``tools.view.write_site``). The tables are
    then kept for it, and its files are listed in the manifest like every file.

    1. the version: a released one only on its recorded content (``ledger.py``);
    2. every shard of documents through ``shards.build_shard`` (levels 1-5, its release rows
       and statistics), in ``jobs`` processes (see ``checks.runner``); each shard's rows are
       written as they come (one Parquet row group per shard and config), so that no process
       holds the corpus; then the corpus-level checks; errors refuse the build;
    3. the ``entities`` config, from the registry and the summed mention counts;
    4. the card, Croissant, ``extra``'s files, the manifest (``_write_release``);
    5. the folder moved into place; nothing is visible at ``out`` until every file is complete.
    """
    try:                                                                                       # 1
        if version is None:
            version, _ = build_version(project, __version__)
        else:
            check_version(project, version)
    except LedgerError as e:
        raise BuildError(f"peacetalks build: {e}") from None
    out = (out or project.workdir / "release" / version).resolve()
    check_output(out, is_release, "a peacetalks release (it has no peacetalks manifest.json)")
    tmp = temp_dir_beside(out)
    spooled = Path(tempfile.mkdtemp(prefix="peacetalks-rows-"))  # (each shard's rows, until they are written)
    try:
        labels = Labels(project.schema / "labels.json")
        feats = features(labels)
        writer = ConfigWriter({c: tmp / parquet_path(c) for c in CONFIGS},
                              {c: feats[c].arrow_schema for c in CONFIGS})
        parts, tokens = [], 0

        def consume(shard) -> None:  # each shard's rows, as it comes
            nonlocal tokens
            for config, table in unspool(shard.extra.pop("rows")).items():
                writer.write(config, table)
                if config == "ner":
                    tokens += int(pc.sum(pc.list_value_length(table.column("tokens"))).as_py() or 0)
            parts.append(shard.extra.pop("partial"))
            shard.tables = None  # (kept no longer than needed)

        result = validate(project, cache=cache, lints=False, jobs=jobs,                              # 2
                          shard_function=partial(build_shard, spool_to=str(spooled)), consume=consume,
                          keep_tables=extra is not None)
        if not result.ok:
            n = len(result.errors)
            raise BuildError("peacetalks build: the corpus has errors; nothing was written.\n"
                             + "\n".join(p.render() for p in result.errors)
                             + f"\nFound {n} error{'s' * (n != 1)}. `peacetalks validate` shows the warnings too.")
        summary = combine(parts, result.tables.entities, result.tables.xdoc_events, labels)
        named = pl.concat([p.entities for p in parts]).group_by("entity").agg(pl.col("mentions", "documents").sum()) \
            if parts else pl.DataFrame(schema={"entity": pl.Utf8, "mentions": pl.Int64, "documents": pl.Int64})
        writer.write("entities", entity_rows(result.tables.entities, named, labels))                  # 3
        writer.close()
        counts = _write_release(project, result, writer, summary, tokens, tmp, version, extra)         # 4
        if is_release(out):                                                                          # 5
            if _same_release(out, tmp):
                return Release(out, version, counts, unchanged=True)
            if not force:
                raise BuildError(
                    f"peacetalks build: {out} already holds a peacetalks release with different contents; "
                    "releases are immutable. Bump the version in src/peacetalks/__init__.py or build elsewhere "
                    "with --out (--force replaces this release).")
        put_in_place(tmp, out)
    finally:
        shutil.rmtree(spooled, ignore_errors=True)
        if tmp.exists():
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


def _write_release(project: Project, result: Result, writer: ConfigWriter, summary: Summary, tokens: int,
                   out: Path, version: str, extra: Callable[[Result, Path], object] | None = None) -> dict:
    """Everything but the Parquet files: card, Croissant, ``extra``'s files, manifest."""
    labels = result.labels
    feats = features(labels)
    rows = writer.rows
    total = summary.documents.select(pl.exclude(pl.String).sum()).row(0, named=True)  # (rows of every table)
    counts = {"documents": rows["documents"], "mentions": rows["mentions"], "entities": rows["entities"]}
    for name in SHOWN_LAYERS:  # every layer of the layer table, then its entries' lists ("event_arguments")
        counts[name] = total[name]
        counts |= {f"{LAYER[name].item}_{child}": total[child] for child in LAYER[name].lists}
    counts |= {"sentences": rows["ner"], "tokens": tokens}
    layers = (result.project.layers.exists() and orjson.loads(result.project.layers.read_bytes())) or {}
    data_files = {parquet_path(c): sha256_file(out / parquet_path(c)) for c in CONFIGS}
    (out / LICENSE_FILE).write_text(license_text(version), encoding="utf-8")
    sizes = {c: (rows[c], writer.nbytes[c]) for c in CONFIGS}
    agreement = orjson.loads(result.project.agreement.read_bytes()) if result.project.agreement.exists() else None
    (out / "README.md").write_text(render_card(labels, summary, sizes, feats, counts, layers, version, agreement),
                                   encoding="utf-8")
    (out / "croissant.json").write_bytes(dump_json(_croissant(feats, version, data_files)))
    if extra is not None:  # (the static viewer for reviewers), listed in the manifest like every file
        extra(result, out)
    files = {p.relative_to(out).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
             for p in sorted(out.rglob("*")) if p.is_file()}
    manifest = {
        "name": "peacetalks",
        "version": version,
        "schema_version": labels.schema_version,
        "splits": {SPLIT: "all documents (one split; splits are made on document boundaries)"},
        "configs": {c: {"path": parquet_path(c), "rows": rows[c]} for c in CONFIGS},
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


def _croissant(feats: dict[str, Features], version: str, data_files: dict) -> dict:
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
