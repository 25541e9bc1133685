"""Stage 6, release engineering: verify a release, diff two versions, cut and publish releases.

- ``verify DIR``: every file of a release against its ``manifest.json`` (V001-V004).
- ``diff OLD NEW``: a semantic changelog between two release folders, project folders or
  git revisions: documents, texts, annotations by layer and label, registry changes
  (merged, split, relinked entities), label inventory changes. Markdown or JSON.
- ``release VERSION``: checks the version against the change (a breaking label change
  needs a major bump, new documents or annotations a minor one, corrections a patch),
  writes the CHANGELOG entry from the diff, sets the version, and builds.
- ``publish DIR --repo-id``: uploads a verified release to the Hugging Face Hub with the
  version as a tag; ``--dry-run`` prints exactly what would be uploaded.

Annotations are matched across versions by what they annotate, not by id (ids may be
renumbered): a mention by (document, start, end), an event by its trigger span, a quote
by its content span and speaker span, a flag by its code and span.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import polars as pl
import pyarrow.compute as pc
import pyarrow.parquet as pq
from huggingface_hub import DatasetCard

from ..diagnostics.problems import Problem
from ..model.layers import LAYER_TABLE
from ..model.schemas import Schemas
from ..reading.files import atomic_write, read_json_file, sha256_file
from ..reading.project import Project, package_schema_dir
from ..reading.revisions import RevisionError, commit_of, extract_revision, is_revision
from . import ledger
from .layout import parquet_path
from .ledger import LedgerError, parse_version


class ReleaseError(Exception):
    """A release command refused; the message says why, nothing was changed."""


# ------------------------------------------------------------------ verify

def verify(folder: Path) -> list[Problem]:
    """A release against its manifest: every file (changed, missing, extra: V001-V003), every path
    inside the folder (V005), and the manifest, card, Croissant metadata and Parquet files telling
    the same story (V006). Nothing outside the folder is ever read."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not folder.is_dir() or manifest_path.is_symlink() or not manifest_path.is_file():
        return [Problem(str(folder), 1, 1, "V004", "no manifest.json: not a peacetalks release folder",
                        "verify the folder that `peacetalks build` wrote")]
    manifest, found = read_json_file(manifest_path, "manifest.json")
    if found:
        return found
    wrong = Schemas(package_schema_dir()).errors("manifest", manifest)
    if wrong:
        return [Problem("manifest.json", 1, 1, "V004", f"manifest.json is not a valid release manifest: "
                        f"{e.pointer or '(top)'}: {e.message}", "rebuild the release with `peacetalks build`")
                for e in wrong[:10]]
    files = manifest["files"]
    problems = []
    inside = {}
    for name in sorted(files):
        path = _inside(folder, name)
        if path is None:
            problems.append(Problem("manifest.json", 1, 1, "V005", f"manifest entry {name!r} points outside the "
                                    "release folder or through a link", "a release lists only its own files"))
        else:
            inside[name] = path
    for name, path in inside.items():
        entry = files[name]
        if not path.is_file():
            problems.append(Problem(name, 1, 1, "V002", "file listed in manifest.json is missing", None))
        elif path.stat().st_size != entry.get("bytes") or sha256_file(path) != entry.get("sha256"):
            problems.append(Problem(name, 1, 1, "V001", "file differs from manifest.json (sha256 or size)",
                                    "releases are immutable: rebuild instead of editing files"))
    present = set()
    for p in sorted(folder.rglob("*")):
        shown = p.relative_to(folder).as_posix()
        if p.is_symlink():
            problems.append(Problem(shown, 1, 1, "V005", "a symbolic link in the release folder",
                                    "a release holds regular files only; remove the link"))
        elif p.is_file():
            present.add(shown)
    for name in sorted(present - set(files) - {"manifest.json"}):
        problems.append(Problem(name, 1, 1, "V003", "file is not listed in manifest.json", "remove it"))
    if not problems:
        problems += _consistency(folder, manifest)
    return problems


def _inside(folder: Path, name: object) -> Path | None:
    """The path of a manifest entry if it names a file inside the folder, through no link; else None."""
    if not isinstance(name, str) or not name or "\\" in name or name.startswith("/") or any(
            part in ("", ".", "..") for part in name.split("/")) or any(ord(c) < 32 for c in name):
        return None
    path = folder
    for part in name.split("/"):
        path = path / part
        if path.is_symlink():
            return None
    return path


def _consistency(folder: Path, manifest: dict) -> list[Problem]:
    """V006: the version, configs and row counts agree across manifest.json, the Parquet files,
    the card (README.md) and croissant.json."""
    found = []

    def disagree(where: str, what: str) -> None:
        found.append(Problem(where, 1, 1, "V006", what, "the files of a release were changed apart from each other: "
                                                       "rebuild it with `peacetalks build`"))

    version, configs, counts = manifest.get("version"), manifest.get("configs"), manifest.get("counts") or {}
    if not isinstance(configs, dict) or not configs:
        return [Problem("manifest.json", 1, 1, "V004", "manifest.json lists no configs", None)]
    rows = {}
    for name, entry in sorted(configs.items()):
        path = _inside(folder, entry.get("path") if isinstance(entry, dict) else None)
        if path is None or not path.is_file():
            disagree("manifest.json", f"config {name!r} names no file of the release")
            continue
        try:
            rows[name] = pq.ParquetFile(path).metadata.num_rows
        except Exception as e:  # noqa: BLE001 - a damaged Parquet file is a finding, not a crash
            disagree(entry["path"], f"not a readable Parquet file ({type(e).__name__})")
            continue
        if rows[name] != entry.get("rows"):
            disagree("manifest.json", f"config {name!r} has {entry.get('rows')} rows in manifest.json, "
                                      f"{rows[name]} in {entry['path']}")
    direct = (("documents", "documents"), ("mentions", "mentions"), ("entities", "entities"),
              ("events", "events"), ("quotes", "quotes"), ("sentences", "ner"))
    nested = (("event_arguments", "events", "arguments"), ("flags", "documents", "flags"), ("tokens", "ner", "tokens"))
    if not isinstance(manifest.get("counts"), dict):
        counts = {}
    for count in [c for c, _ in direct] + [c for c, _, _ in nested]:  # every count a build states
        if count not in counts:
            disagree("manifest.json", f"counts.{count} is missing")
    for count, config in direct:
        if count in counts and config in rows and counts[count] != rows[config]:
            disagree("manifest.json", f"counts.{count} is {counts[count]}, the {config} config has {rows[config]} rows")
    for count, config, column in nested:  # counts of nested items, summed batch by batch
        if count in counts and config in rows:
            try:
                n = sum(int(pc.sum(pc.list_value_length(batch.column(0))).as_py() or 0) for batch in
                        pq.ParquetFile(_inside(folder, configs[config]["path"])).iter_batches(columns=[column]))
            except Exception as e:  # noqa: BLE001 - a file without the column is a finding
                disagree(configs[config]["path"], f"cannot count {column} ({type(e).__name__})")
                continue
            if n != counts[count]:
                disagree("manifest.json", f"counts.{count} is {counts[count]}, the {config} config holds {n}")
    try:
        croissant = orjson.loads((folder / "croissant.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        croissant = None
    if isinstance(croissant, dict):
        if croissant.get("version") != version:
            disagree("croissant.json", f"version {croissant.get('version')!r}, manifest.json says {version!r}")
        sets = {r.get("name") for r in croissant.get("recordSet") or [] if isinstance(r, dict)}
        if sets != set(configs):
            disagree("croissant.json", f"record sets {sorted(map(str, sets))}, manifest.json configs {sorted(configs)}")
        for d in croissant.get("distribution") or []:
            url, digest = (d.get("contentUrl"), d.get("sha256")) if isinstance(d, dict) else (None, None)
            if url in manifest["files"] and manifest["files"][url].get("sha256") != digest:
                disagree("croissant.json", f"sha256 of {url} differs from manifest.json")
    try:
        card = DatasetCard.load(folder / "README.md")
    except Exception:  # noqa: BLE001 - a card without its metadata
        card = None
    if card is not None:
        meta = card.data.to_dict()
        info = {i.get("config_name"): sum(s.get("num_examples", 0) for s in i.get("splits") or [])
                for i in meta.get("dataset_info") or [] if isinstance(i, dict)}
        if set(info) != set(configs):
            disagree("README.md", f"the card describes configs {sorted(map(str, info))}, manifest.json {sorted(configs)}")
        for name, n in sorted(info.items()):
            if name in rows and n != rows[name]:
                disagree("README.md", f"the card gives config {name!r} {n} examples, its Parquet file has {rows[name]}")
        if version and f"peacetalks {version}" not in card.text and f"Version {version}" not in card.text:
            disagree("README.md", f"the card does not name version {version}")
    return found


# ------------------------------------------------------------------ snapshots

@dataclass
class Snapshot:
    """One version of the corpus, in the comparable form the diff works on."""

    name: str
    version: str | None
    documents: pl.DataFrame
    mentions: pl.DataFrame
    events: pl.DataFrame
    quotes: pl.DataFrame
    flags: pl.DataFrame
    entities: pl.DataFrame
    labels: dict[str, list[str]] = field(default_factory=dict)
    schema_version: str | None = None


def _span(s, e) -> str:
    return f"{s}-{e}" if s is not None else ""


def _from_tables(name: str, version: str | None, documents: pl.DataFrame, mentions: pl.DataFrame,
                 events: pl.DataFrame, arguments: pl.DataFrame, quotes: pl.DataFrame, flags: pl.DataFrame,
                 entities: pl.DataFrame, labels: dict[str, list[str]], schema_version: str | None = None) -> Snapshot:
    """Comparable frames: references by span, not by id."""
    span_of = mentions.select("document", pl.col("id").alias("mention"),
                              pl.format("{}-{}", "start", "end").alias("span"))
    args = (arguments.join(span_of, on=["document", "mention"], how="left")
            .with_columns(pl.format("{}={}", "role", pl.col("span").fill_null("?")).alias("arg"))
            .group_by("document", "event").agg(pl.col("arg").sort().str.join(", ").alias("arguments")))
    ev = (events.drop("arguments", strict=False)
          .join(args, left_on=["document", "id"], right_on=["document", "event"], how="left")
          .with_columns(pl.col("arguments").fill_null(""))
          .select("document", "trigger_start", "trigger_end", "trigger_text", "type", "realis", "modality",
                  "xdoc", "arguments"))
    speaker = span_of.rename({"mention": "speaker", "span": "speaker_span"})
    qt = (quotes.join(speaker, on=["document", "speaker"], how="left")
          .with_columns(pl.col("speaker_span").fill_null(""),
                        pl.format("{}-{}", "cue_start", "cue_end").fill_null("").alias("cue"))
          .select("document", "content_start", "content_end", "speaker_span", "kind", "cue", "content_text"))
    return Snapshot(
        name, version, documents.select("id", "title", "date", "outlet", "text"),
        mentions.select("document", "start", "end", "text", "type", "level", "entity", "value"),
        ev, qt, flags.select("document", "code", "start", "end", "note"),
        entities.select("id", "name", "type", "wikidata"), labels, schema_version)


def _from_project(name: str, root: Path, drift: bool = True) -> Snapshot:
    from ..checks.validate import validate
    project = Project(root)
    result = validate(project, drift=drift)  # (a past revision: its corpus as its own normaliser wrote it)
    if result.errors:
        raise ReleaseError(f"{name} does not validate ({len(result.errors)} errors); diff needs valid versions")
    t = result.tables
    frames = {k: pl.from_arrow(getattr(t, k)) for k in ("documents", "mentions", "events", "arguments", "quotes",
                                                         "flags", "entities")}
    frames["arguments"] = frames["arguments"].join(
        frames["events"].select("document", pl.col("index").alias("event_index"), pl.col("id").alias("event")),
        on=["document", "event_index"]).select("document", "event", "role", "mention")
    frames["flags"] = frames["flags"].rename({"span_start": "start", "span_end": "end"})
    labels = {k: result.labels[k].names for k in ("EntityType", "TimexType", "MentionLevel", "EventType", "Realis",
                                                  "Modality", "QuoteKind", "FlagCode")}
    labels["roles"] = result.labels.roles
    version = None
    init = root / "src" / "peacetalks" / "__init__.py"
    if init.exists():
        m = re.search(r'__version__\s*=\s*"([^"]+)"', init.read_text("utf-8"))
        version = m.group(1) if m else None
    if version is not None:  # released content keeps its version; anything else is a development version
        try:
            version = ledger.build_version(project, version)[0]
        except LedgerError as e:
            raise ReleaseError(str(e)) from None
    return _from_tables(name, version, frames["documents"], frames["mentions"], frames["events"],
                        frames["arguments"], frames["quotes"], frames["flags"], frames["entities"], labels,
                        result.labels.schema_version)


def _from_release(name: str, folder: Path) -> Snapshot:
    from datasets import Features

    manifest = orjson.loads((folder / "manifest.json").read_bytes())

    def read(config: str) -> tuple[pl.DataFrame, Features]:
        table = pq.read_table(folder / parquet_path(config))
        return pl.from_arrow(table), Features.from_arrow_schema(table.schema)

    def decode(frame: pl.DataFrame, feats, columns: list[str]) -> pl.DataFrame:
        out = []
        for c in columns:
            names = feats[c].names
            out.append(pl.col(c).replace_strict(list(range(len(names))), names, default=None, return_dtype=pl.Utf8))
        return frame.with_columns(out)

    docs, _ = read("documents")
    mentions, mf = read("mentions")
    mentions = decode(mentions, mf, ["type", "level"])
    events, ef = read("events")
    roles = ef["arguments"].feature["role"].names
    arguments = (events.select("document", pl.col("id").alias("event"), "arguments").explode("arguments")
                 .drop_nulls("arguments").unnest("arguments")
                 .with_columns(pl.col("role").replace_strict(list(range(len(roles))), roles, return_dtype=pl.Utf8)))
    events = decode(events, ef, ["type", "realis", "modality"])
    quotes, qf = read("quotes")
    quotes = decode(quotes, qf, ["kind"])
    flag_feat = Features.from_arrow_schema(pq.read_schema(folder / parquet_path("documents")))["flags"].feature
    flags = docs.select(pl.col("id").alias("document"), "flags").explode("flags").drop_nulls("flags").unnest("flags")
    flags = flags.with_columns(pl.col("code").replace_strict(list(range(len(flag_feat["code"].names))),
                                                             flag_feat["code"].names, return_dtype=pl.Utf8))
    entities, nf = read("entities")
    entities = decode(entities, nf, ["type"])
    labels = {"EntityType": nf["type"].names, "MentionLevel": mf["level"].names, "EventType": ef["type"].names,
              "Realis": ef["realis"].names, "Modality": ef["modality"].names, "QuoteKind": qf["kind"].names,
              "FlagCode": flag_feat["code"].names, "roles": roles,
              "TimexType": [n for n in mf["type"].names if n not in nf["type"].names]}
    return _from_tables(name, manifest.get("version"), docs, mentions, events, arguments, quotes, flags, entities, labels,
                        manifest.get("schema_version"))


def snapshot(source: str, root: Path) -> Snapshot:
    """A release folder, a project folder, or a git revision of the project at ``root``."""
    try:
        return _snapshot(source, root)
    except ReleaseError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged folder or revision is reported, not a traceback
        raise ReleaseError(f"cannot read {source!r}: {type(e).__name__}: {e}") from None


def _snapshot(source: str, root: Path) -> Snapshot:
    path = Path(source)
    if (path / "manifest.json").is_file():
        return _from_release(source, path)
    if (path / "annotations").is_dir() and (path / "corpus").is_dir():
        return _from_project(source, path)
    recorded = ledger.entries(Project(root)).get(source.removeprefix("v"))
    if recorded is not None:
        return _from_ledger(recorded, root)
    return _from_revision(source, root)


def _from_ledger(entry: ledger.Entry, root: Path) -> Snapshot:
    """A released version: from the commit the ledger records (checked against its sources digest), or,
    where that commit cannot be read (no git, a shallow clone), from its release folder under
    ``release/`` if that folder is byte for byte what the ledger records."""
    why = f"{entry.version} records no commit"
    if entry.commit:
        try:
            snap, digest = _from_revision(entry.commit, root, name=entry.version, digest=True)
        except ReleaseError as e:
            why = str(e)
        else:
            if digest != entry.sources:
                raise ReleaseError(f"commit {entry.commit[:12]} does not hold the content {entry.path.name} "
                                   f"records for {entry.version}")
            snap.version = entry.version
            return snap
    folder = Project(root).workdir / "release" / entry.version
    if (folder / "manifest.json").is_file() and not verify(folder) and \
            orjson.loads((folder / "manifest.json").read_bytes()).get("files") == entry.files:
        return _from_release(entry.version, folder)
    raise ReleaseError(f"cannot read release {entry.version}: {why}, and {folder} is not its release folder "
                       "(fetch the full history, or rebuild the release from its commit)")


def _from_revision(source: str, root: Path, name: str | None = None, digest: bool = False):
    if not is_revision(root, source):
        raise ReleaseError(f"{source!r} is neither a release folder, a project folder, a released version "
                           "(annotations/releases/) nor a git revision")
    with tempfile.TemporaryDirectory(prefix="peacetalks-rev-") as tmp:
        try:
            extract_revision(root, source, Path(tmp))
        except RevisionError as e:
            raise ReleaseError(str(e)) from None
        snap = _from_project(name or source, Path(tmp), drift=False)
        return (snap, ledger.sources_digest(Project(Path(tmp)))) if digest else snap


# ------------------------------------------------------------------ diff

LAYERS = {layer.name: (list(layer.identity), list(layer.compared), layer.label) for layer in LAYER_TABLE}


_OFFSETS = {"mentions": ["start", "end"], "events": ["trigger_start", "trigger_end"],
            "quotes": ["content_start", "content_end"], "flags": ["start", "end"]}
_SPAN_STRINGS = {"events": ["arguments"], "quotes": ["speaker_span", "cue"]}  # "s-e" inside strings
_SPAN_TEXT = re.compile(r"(\d+)-(\d+)")


def _offset_map(old_text: str, new_text: str):
    """old offset -> new offset where the character (or the end) lies in a stretch both texts share."""
    blocks = difflib.SequenceMatcher(None, old_text, new_text, autojunk=False).get_matching_blocks()

    def at(pos, end: bool = False):
        if pos is None:
            return None
        for i, j, n in blocks:
            if (i < pos <= i + n) if end else (i <= pos < i + n):
                return j + pos - i
        return pos  # in text that changed: kept as is, so the annotation reads as removed and added
    return at


def _realigned(old: Snapshot, new: Snapshot, changed: list[str]) -> Snapshot:
    """``old`` with the offsets of documents whose text changed carried over to the new text (a headline
    that became text, a corrected normaliser), so that the diff compares annotations, not positions."""
    if not changed:
        return old
    texts = dict(zip(new.documents["id"], new.documents["text"]))
    maps = {doc: _offset_map(text, texts[doc]) for doc, text in zip(old.documents["id"], old.documents["text"])
            if doc in changed}
    frames = {}
    for layer, (start, end) in _OFFSETS.items():
        frame = getattr(old, layer)
        moving = pl.col("document").is_in(list(maps))
        rows = frame.filter(moving).to_dicts()  # (only the documents whose text changed go through Python)
        for row in rows:
            at = maps[row["document"]]
            row[start], row[end] = at(row[start]), at(row[end], end=True)
            for column in _SPAN_STRINGS.get(layer, []):
                if row[column]:
                    moved = [_SPAN_TEXT.sub(lambda m: f"{at(int(m[1]))}-{at(int(m[2]), end=True)}", part)
                             for part in row[column].split(", ")]
                    row[column] = ", ".join(sorted(moved))  # (as _from_tables sorts the arguments)
        frames[layer] = pl.concat([frame.filter(~moving), pl.DataFrame(rows, schema=frame.schema)])
    return dataclasses.replace(old, **frames)


def _layer_diff(old: pl.DataFrame, new: pl.DataFrame, keys: list[str], values: list[str], label: str) -> dict:
    old = old.with_columns(pl.col(keys).cast(pl.Utf8).fill_null(""))
    new = new.with_columns(pl.col(keys).cast(pl.Utf8).fill_null(""))
    added = new.join(old.select(keys), on=keys, how="anti")
    removed = old.join(new.select(keys), on=keys, how="anti")
    both = old.join(new, on=keys, how="inner", suffix="_new")
    differs = pl.lit(False)
    for v in values:
        differs = differs | (pl.col(v).cast(pl.Utf8).fill_null("∅") != pl.col(f"{v}_new").cast(pl.Utf8).fill_null("∅"))
    changed = both.filter(differs)

    def by_label(frame: pl.DataFrame, column: str) -> dict[str, int]:
        return dict(sorted(frame.group_by(column).agg(pl.len()).iter_rows(), key=lambda kv: str(kv[0]))) \
            if frame.height else {}

    changes = {}
    for v in values:
        n = changed.filter(pl.col(v).cast(pl.Utf8).fill_null("∅") != pl.col(f"{v}_new").cast(pl.Utf8).fill_null("∅")).height
        if n:
            changes[v] = n
    return {"added": added.height, "removed": removed.height, "changed": changed.height,
            "added_by_label": {str(k): v for k, v in by_label(added, label).items()},
            "removed_by_label": {str(k): v for k, v in by_label(removed, label).items()},
            "changed_fields": changes}


def _registry_diff(old: Snapshot, new: Snapshot) -> dict:
    o, n = old.entities, new.entities
    added = sorted(set(n["id"]) - set(o["id"]))
    removed = sorted(set(o["id"]) - set(n["id"]))
    both = o.join(n, on="id", suffix="_new")
    changed = sorted(both.filter((pl.col("name") != pl.col("name_new")) | (pl.col("type") != pl.col("type_new"))
                                 | (pl.col("wikidata").fill_null("") != pl.col("wikidata_new").fill_null("")))["id"])
    keys = ["document", "start", "end"]
    links = (old.mentions.filter(pl.col("entity").is_not_null()).select(*keys, "entity")
             .join(new.mentions.filter(pl.col("entity").is_not_null()).select(*keys, pl.col("entity").alias("to")),
                   on=keys))
    moved = links.filter(pl.col("entity") != pl.col("to"))
    merged, split, relinked, renamed = [], [], [], []
    new_ids = set(added)
    for (entity,), group in sorted(moved.group_by("entity"), key=lambda kv: kv[0]):
        kept = links.filter((pl.col("entity") == entity) & (pl.col("to") == entity)).height
        targets = sorted(set(group["to"]))
        fresh = [t for t in targets if t in new_ids]
        if entity in removed and not kept and len(targets) == 1:
            # every mention went to one entity: a merge into an existing one, or a new id
            (renamed if fresh else merged).append({"from": entity, "into": targets[0], "mentions": group.height})
        elif fresh:
            split.append({"entity": entity, "into": sorted(set(targets) | ({entity} if kept else set())),
                          "mentions": group.height})
        else:
            for (to,), sub in sorted(group.group_by("to"), key=lambda kv: kv[0]):
                relinked.append({"from": entity, "to": to, "mentions": sub.height})
    return {"added": added, "removed": removed, "changed": changed, "merged": merged, "renamed": renamed,
            "split": split, "relinked": relinked}


def _labels_diff(old: Snapshot, new: Snapshot) -> dict:
    """Label inventories: additions at the end are compatible; removals and reorderings change ClassLabel ids."""
    out = {}
    for inventory in sorted(set(old.labels) | set(new.labels)):
        a, b = old.labels.get(inventory, []), new.labels.get(inventory, [])
        if a != b:
            removed = [x for x in a if x not in b]
            out[inventory] = {"added": [x for x in b if x not in a], "removed": removed,
                              "breaking": bool(removed) or b[:len(a)] != a}
    return out


def diff(old: Snapshot, new: Snapshot) -> dict:
    od, nd = old.documents, new.documents
    added = sorted(set(nd["id"]) - set(od["id"]))
    removed = sorted(set(od["id"]) - set(nd["id"]))
    both = od.join(nd, on="id", suffix="_new")
    text_changed = sorted(both.filter(pl.col("text") != pl.col("text_new"))["id"])
    meta_changed = sorted(both.filter(
        (pl.col("title").fill_null("") != pl.col("title_new").fill_null(""))
        | (pl.col("date").fill_null("") != pl.col("date_new").fill_null(""))
        | (pl.col("outlet").fill_null("") != pl.col("outlet_new").fill_null("")))["id"])
    aligned = _realigned(old, new, text_changed)
    layers = {name: _layer_diff(getattr(aligned, name), getattr(new, name), *spec) for name, spec in LAYERS.items()}
    labels = _labels_diff(old, new)
    registry = _registry_diff(aligned, new)
    schema = ({"old": old.schema_version, "new": new.schema_version}
              if old.schema_version and new.schema_version and old.schema_version != new.schema_version else None)
    return {"old": {"name": old.name, "version": old.version}, "new": {"name": new.name, "version": new.version},
            "schema": schema,
            "documents": {"added": added, "removed": removed, "text_changed": text_changed,
                          "metadata_changed": meta_changed},
            "layers": layers, "entities": registry, "labels": labels, "bump": required_bump(
                added, removed, text_changed, meta_changed, layers, registry, labels)}


def required_bump(added, removed, text_changed, meta_changed, layers, registry, labels) -> str | None:
    """The semver part a release of this change must increase (None: nothing changed)."""
    if any(v["breaking"] for v in labels.values()) or removed:
        return "major"
    if added or any(v["added"] for v in labels.values()) or any(l["added"] for l in layers.values()) \
            or registry["added"]:
        return "minor"
    if text_changed or meta_changed or any(l["removed"] or l["changed"] for l in layers.values()) \
            or any(registry[k] for k in ("removed", "changed", "merged", "renamed", "split", "relinked")):
        return "patch"
    return None


def markdown(d: dict, version: str | None = None, date: str | None = None) -> str:
    title = version or d["new"]["version"] or d["new"]["name"]
    lines = [f"## {title}" + (f" ({date})" if date else ""), ""]
    lines.append(f"Changes from {d['old']['version'] or d['old']['name']} "
                 f"({d['bump'] or 'no'} change).")
    lines.append("")
    docs = d["documents"]
    if any(docs.values()):
        lines.append("### Documents")
        for key, what in (("added", "added"), ("removed", "removed"), ("text_changed", "text changed"),
                          ("metadata_changed", "metadata changed")):
            if docs[key]:
                lines.append(f"- {what}: " + ", ".join(f"`{x}`" for x in docs[key]))
        lines.append("")
    rows = []
    for name, layer in d["layers"].items():
        if layer["added"] or layer["removed"] or layer["changed"]:
            detail = []
            if layer["added_by_label"]:
                detail.append("added " + ", ".join(f"{k} {v}" for k, v in layer["added_by_label"].items()))
            if layer["removed_by_label"]:
                detail.append("removed " + ", ".join(f"{k} {v}" for k, v in layer["removed_by_label"].items()))
            if layer["changed_fields"]:
                detail.append("changed " + ", ".join(f"{k} {v}" for k, v in layer["changed_fields"].items()))
            rows.append(f"| {name} | +{layer['added']} | -{layer['removed']} | ~{layer['changed']} | {'; '.join(detail)} |")
    if rows:
        lines += ["### Annotations", "", "| layer | added | removed | changed | by label / field |",
                  "|---|---|---|---|---|", *rows, ""]
    reg = d["entities"]
    if any(reg.values()):
        lines.append("### Entity registry")
        for key in ("added", "removed", "changed"):
            if reg[key]:
                lines.append(f"- {key}: " + ", ".join(f"`{x}`" for x in reg[key]))
        for m in reg["merged"]:
            lines.append(f"- merged `{m['from']}` into `{m['into']}` ({m['mentions']} mentions)")
        for m in reg["renamed"]:
            lines.append(f"- renamed `{m['from']}` to `{m['into']}` ({m['mentions']} mentions)")
        for s in reg["split"]:
            lines.append(f"- split `{s['entity']}` into " + ", ".join(f"`{x}`" for x in s["into"])
                         + f" ({s['mentions']} mentions moved)")
        for r in reg["relinked"]:
            lines.append(f"- relinked {r['mentions']} mention(s) from `{r['from']}` to `{r['to']}`")
        lines.append("")
    if d.get("schema"):
        lines += ["### Schema", f"- schema version {d['schema']['old']} → {d['schema']['new']} "
                  "(schema/labels.json `x-schema-version`; README's Versions section says what changed)", ""]
    if d["labels"]:
        lines.append("### Label inventories")
        for inventory, change in d["labels"].items():
            parts = []
            if change["added"]:
                parts.append("added " + ", ".join(f"`{x}`" for x in change["added"]))
            if change["removed"]:
                parts.append("removed " + ", ".join(f"`{x}`" for x in change["removed"]))
            if change["breaking"]:
                parts.append("**breaking**: ClassLabel ids of existing labels change")
            lines.append(f"- {inventory}: " + "; ".join(parts))
        lines.append("")
    if len(lines) <= 4:
        lines += ["No changes.", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ release

def expected_version(previous: str, bump: str) -> str:
    major, minor, patch = parse_version(previous)
    return {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0", "patch": f"{major}.{minor}.{patch + 1}"}[bump]


def set_version(project: Project, version: str) -> None:
    init = project.root / "src" / "peacetalks" / "__init__.py"
    if not init.exists():
        raise ReleaseError("releases are cut from a source checkout (src/peacetalks/__init__.py holds the version)")
    text = init.read_text("utf-8")
    new = re.sub(r'__version__\s*=\s*"[^"]*"', f'__version__ = "{version}"', text, count=1)
    atomic_write(init, new.encode("utf-8"))


def _has_entry(changelog: str, version: str) -> bool:
    return re.search(rf"^## {re.escape(version)}(?:\s|$)", changelog, re.M) is not None


def write_changelog(project: Project, entry: str) -> Path:
    path = project.root / "CHANGELOG.md"
    head = "# Changelog\n\nEvery release of the peacetalks corpus, newest first, written by `peacetalks release` " \
           "from `peacetalks diff`.\n\n"
    old = path.read_text("utf-8") if path.exists() else head
    body = old[len(head):] if old.startswith(head) else old.split("\n", 1)[1].lstrip("\n") if old.startswith("# ") else old
    version = entry.splitlines()[0].removeprefix("## ").split(" ")[0]
    if _has_entry(old, version):
        raise ReleaseError(f"CHANGELOG.md already has an entry for {version}")
    atomic_write(path, (head + entry.rstrip() + "\n\n" + body).rstrip().encode("utf-8") + b"\n")
    return path


@dataclass
class Cut:
    version: str
    bump: str | None
    previous: str | None
    entry: str
    diff: dict | None


def plan(project: Project, version: str | None, previous: str | None = None, date: str | None = None) -> Cut:
    """What ``release`` would do: refuses a released version, and a version that does not match the change.

    The baseline is ``previous`` if given, else the newest version in the release ledger
    (``annotations/releases/``); only a project with no recorded release has an initial one.
    Without ``version``, the version the change requires is chosen.
    """
    try:
        if version is not None:
            parse_version(version)
        recorded = ledger.entries(project)
        newest = ledger.latest(project)
    except LedgerError as e:
        raise ReleaseError(str(e)) from None
    if version in recorded:
        raise ReleaseError(f"{version} is already released ({project.rel(recorded[version].path)}); "
                           "a released version is never cut again")
    if version is not None and newest is not None and parse_version(version) <= newest.key:
        raise ReleaseError(f"{version} is not after the last release, {newest.version}")
    base = previous or (newest.version if newest else None)
    date = date or _dt.date.today().isoformat()
    current = _from_project("working tree", project.root)
    if base is None:
        if version is None:
            raise ReleaseError("nothing is released yet: give the version of the initial release")
        entry = "\n".join([f"## {version} ({date})", "", "Initial release.", "",
                           f"- documents: {current.documents.height}; mentions: {current.mentions.height}; "
                           f"events: {current.events.height}; quotes: {current.quotes.height}; "
                           f"flags: {current.flags.height}; entities: {current.entities.height}", ""])
        return Cut(version, None, None, entry, None)
    old = snapshot(base, project.root)
    if old.version is None:
        raise ReleaseError(f"cannot tell the version of {base}")
    d = diff(old, current)
    if d["bump"] is None:
        raise ReleaseError(f"nothing changed since {old.version}: there is nothing to release")
    want = expected_version(old.version, d["bump"])
    version = version or want
    if version != want:
        raise ReleaseError(f"this change since {old.version} is a {d['bump']} change, so the release is {want}, "
                           f"not {version}" + _why(d))
    return Cut(version, d["bump"], old.version, markdown(d, version, date), d)


def _why(d: dict) -> str:
    if d["bump"] == "major":
        return " (labels were removed or reordered, or documents removed: readers' ClassLabel ids or rows change)"
    if d["bump"] == "minor":
        return " (documents, annotations, entities or labels were added)"
    return " (annotations, texts or the registry were corrected)"


def source_commit(project: Project) -> str | None:
    """The commit a release is cut from: HEAD, whose corpus files must be the working tree's.

    None outside a git repository. Uncommitted changes to the corpus refuse the release,
    since the ledger's commit must hold exactly the released content.
    """
    head = commit_of(project.root, "HEAD")
    if head is None:
        return None
    paths = [project.rel(p) for p in (project.corpus, project.documents, project.entities, project.xdoc_events,
                                      project.layers, project.schema / "labels.json")]
    dirty = subprocess.run(["git", "-C", str(project.root), "status", "--porcelain", "--untracked-files=all", "--",
                            *paths], capture_output=True, text=True).stdout.strip()
    if dirty:
        raise ReleaseError("commit the corpus changes first: a release records the commit that holds its content\n"
                           + dirty)
    return head


def release(project: Project, version: str, previous: str | None = None, date: str | None = None,
            out: Path | None = None):
    """Check the version, build release/<version>, record it in the ledger, write CHANGELOG.md and the version."""
    from .build import build
    cut = plan(project, version, previous, date)
    commit = source_commit(project)
    changelog = project.root / "CHANGELOG.md"
    if changelog.exists() and _has_entry(changelog.read_text("utf-8"), version):
        raise ReleaseError(f"CHANGELOG.md already has an entry for {version}")
    if not (project.root / "src" / "peacetalks" / "__init__.py").exists():
        raise ReleaseError("releases are cut from a source checkout (src/peacetalks/__init__.py holds the version)")
    built = build(project, out or project.workdir / "release" / version, version=version)
    try:
        recorded = ledger.record(project, built.path, date or _dt.date.today().isoformat(), commit)
    except LedgerError as e:
        raise ReleaseError(str(e)) from None
    changelog = write_changelog(project, cut.entry)
    set_version(project, version)
    return cut, changelog, built, recorded


# ------------------------------------------------------------------ publish

def publish(folder: Path, repo_id: str, dry_run: bool = False, token: str | None = None) -> list[str]:
    """Upload a verified release to the Hub, tagged with its version. Returns the lines it printed/would print."""
    folder = Path(folder)
    problems = verify(folder)
    if problems:
        raise ReleaseError("refusing to publish: the release does not match its manifest\n"
                           + "\n".join(p.render() for p in problems))
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id):
        raise ReleaseError(f"--repo-id must be ORG/NAME, not {repo_id!r}")
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    version = manifest["version"]
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    lines = [f"repository: https://huggingface.co/datasets/{repo_id} (dataset)",
             f"commit: 'peacetalks {version}' on main, then tag v{version}",
             f"files ({len(files)}):"]
    entries = {**manifest["files"], "manifest.json": {"bytes": (folder / "manifest.json").stat().st_size,
                                                      "sha256": sha256_file(folder / "manifest.json")}}
    lines += [f"  {name}  {entries[name]['bytes']:>10} bytes  sha256 {entries[name]['sha256']}" for name in files]
    if dry_run:
        return lines
    token = token or os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if not token:
        raise ReleaseError("set HF_TOKEN to a Hugging Face token with write access (or use --dry-run)")
    from huggingface_hub import HfApi
    api = HfApi(token=token)
    refs = None
    try:
        refs = api.list_repo_refs(repo_id, repo_type="dataset")
    except Exception:  # noqa: BLE001 - a new repository has no refs yet
        pass
    if refs is not None and any(t.name == f"v{version}" for t in refs.tags):
        raise ReleaseError(f"{repo_id} already has tag v{version}: releases are immutable, bump the version")
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                      commit_message=f"peacetalks {version}")
    api.create_tag(repo_id, tag=f"v{version}", repo_type="dataset", tag_message=f"peacetalks {version}")
    return lines + [f"published v{version}"]


def to_json(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, indent=1, default=str)
