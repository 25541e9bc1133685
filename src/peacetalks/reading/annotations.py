"""Stage 3, annotations: reading the hand-curated files and flattening them to Arrow tables.

annotations/documents/<id>.json   one file per corpus document (mentions, events, quotes, flags)
annotations/entities.json         the entity registry (corpus level)
annotations/xdoc-events.json      the cross-document event registry
annotations/layers.json           per-layer provenance and annotation process
annotations/allow.json            reviewed warnings, each accepted with a reason (optional)

Files pass level 1 (files) and level 2 (JSON Schema) here; what passes is flattened,
without per-annotation Python loops, into one Arrow table per layer. Every row keeps
its document id and its index in the file, so a problem found in a table can be
placed back at its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..defaults import HELPER_SHARE, MAX_JSON_BYTES, READ_BATCH
from ..diagnostics.locate import Locator
from ..diagnostics.problems import Problem
from ..model.layers import (
    DOCUMENT,
    ENTITY,
    LAYER_TABLE,
    LAYERS,
    XDOC_EVENT,
)
from ..model.schemas import Schemas
from .cache import document_key
from .files import (
    listing,
    odd_entry,
    quick_json,
    read_bytes,
    read_json_file,
)
from .project import Project


def helper_share(names: list[str]) -> int:
    """Where the second process's part of a folder listing starts (both processes compute it alike)."""
    return len(names) - int(len(names) * HELPER_SHARE)


def read_valid(schemas: Schemas, folder: str, names: list[str]) -> list[pa.Array]:
    """The annotation files among ``names`` that pass levels 1-2 without any problem, as Arrow chunks.

    The same checks as ``load_annotations`` on its fast path, reporting nothing: a file
    with any problem is simply left out, for ``load_annotations`` to read again and
    explain. Each record's ``document`` is its file's name (that is checked).
    """
    batch, chunks = [], []
    for name in names:
        stem, dot, suffix = name.rpartition(".")
        if not (dot and stem and suffix == "json") or name.startswith(".") or not schemas.is_valid_id(stem):
            continue
        raw, _ = read_bytes(f"{folder}/{name}", name, MAX_JSON_BYTES)
        if raw is None:
            continue
        is_valid = schemas.validator("annotations")
        ok, value = quick_json(raw, is_valid)
        if not ok or not is_valid(value) or value["document"] != stem:
            continue
        batch.append(value)
        if len(batch) == READ_BATCH:
            chunks.append(pa.array(batch, type=DOCUMENT))
            batch = []
    if batch:
        chunks.append(pa.array(batch, type=DOCUMENT))
    return chunks


@dataclass
class AnnotationFile:
    document: str
    path: str


@dataclass
class Annotations:
    """What levels 1-2 let through (its files, and their content as Arrow chunks), and the problems found."""

    files: list[AnnotationFile] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # stems of every annotation file, valid or not
    chunks: list[pa.Array] = field(default_factory=list)  # records read now, one row per key in ``keys``
    keys: list[str] = field(default_factory=list)  # their content keys (with a cache)
    cached: list[tuple[str, str]] = field(default_factory=list)  # (document, key) found unchanged in the cache
    entities: list[dict] | None = None
    xdoc_events: list[dict] | None = None
    layers: dict | None = None
    allow: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _registry(project: Project, schemas: Schemas, locator: Locator, path: Path, kind: str, key: str | None,
              problems: list[Problem]):
    shown = project.rel(path)
    if not path.exists():
        problems.append(Problem(shown, 1, 1, "F009", f"{path.name} is missing",
                                f"create it: an object checked by schema/{kind}.json"))
        return None
    value, found = read_json_file(path, shown)
    problems += found
    if value is None:
        return None
    errors = schemas.errors(kind, value)
    for e in errors:
        problems.append(Problem(shown, *locator.locate(path, e.pointer, e.at_key), e.code, e.message, e.hint))
    if errors:
        return None
    return value[key] if key else value


def load_annotations(project: Project, schemas: Schemas, locator: Locator, cache=None,
                     digests: dict[str, str] | None = None, helper=None) -> Annotations:
    """Every annotation file through levels 1-2.

    With a ``cache`` (and the ``digests`` of the corpus documents), a file whose content
    key is cached is not parsed again: it passed levels 1-3 with these exact bytes.
    With a ``helper`` (the build's second process, without a cache), the last files by
    name (``helper_share``) are read there at the same time (``read_valid``); any of them
    it did not return is read here, so its problems are reported as usual.
    """
    out = Annotations()
    p = out.problems
    out.entities = _registry(project, schemas, locator, project.entities, "entities", "entities", p)
    out.xdoc_events = _registry(project, schemas, locator, project.xdoc_events, "xdoc-events", "events", p)
    if project.layers.exists():
        out.layers = _registry(project, schemas, locator, project.layers, "layers", None, p)
    if project.allow.exists():
        out.allow = _registry(project, schemas, locator, project.allow, "allow", "allow", p) or []
    if not project.documents.is_dir():
        return out
    batch: list[dict] = []
    folder, prefix = str(project.documents), project.rel(project.documents)
    entries = [(name, is_file) for name, is_file in listing(folder) if not name.startswith(".")]
    split = helper_share([name for name, _ in entries]) if helper is not None and cache is None else len(entries)
    theirs: list[tuple[str, str]] = []  # (document, path) of the files the helper reads
    for n, (name, is_file) in enumerate(entries):
        shown = f"{prefix}/{name}"
        stem, dot, suffix = name.rpartition(".")
        suffix = f".{suffix}" if dot and stem else ""
        stem = stem if suffix else name
        path = f"{folder}/{name}"
        if suffix.lower() in (".yaml", ".yml"):
            p.append(Problem(shown, 1, 1, "F008", "annotation files are JSON; YAML files are not read",
                             f"convert it to {stem}.json (YAML is never parsed, so its tags cannot run)"))
            continue
        if not is_file:
            p.append(Problem(shown, 1, 1, "F008", f"unexpected entry in annotations/documents/: {odd_entry(path)}",
                             "it holds only <document id>.json files"))
            continue
        if suffix != ".json":
            p.append(Problem(shown, 1, 1, "F008", "unexpected file in annotations/documents/",
                             "it holds only <document id>.json files"))
            continue
        if not schemas.is_valid_id(stem):
            p.append(Problem(shown, 1, 1, "F007", f"file name {name!r} is not a safe document id",
                             "letters, digits, '.', '_' and '-' only, starting with a letter or digit"))
            continue
        out.present.add(stem)
        if n >= split:
            theirs.append((stem, path))
            continue
        key = None
        if cache is not None and digests and stem in digests:
            raw, _ = read_bytes(path, shown, MAX_JSON_BYTES)  # (a file that fails is explained by _read_one)
            if raw is not None:
                key = document_key(raw, digests[stem])
                if key in cache:
                    out.files.append(AnnotationFile(stem, path))
                    out.cached.append((stem, key))
                    continue
            data = _read_one(out, schemas, locator, shown, stem, path, key, raw)
        else:
            data = _read_one(out, schemas, locator, shown, stem, path, key)
        if data is None:
            continue
        batch.append(data)
        if len(batch) == READ_BATCH:  # keep memory flat: dicts become compact Arrow columns as we go
            out.chunks.append(pa.array(batch, type=DOCUMENT))
            batch = []
    if batch:
        out.chunks.append(pa.array(batch, type=DOCUMENT))
    if theirs:
        got = helper.annotations()  # (document ids, Arrow chunks), or None if the helper failed
        done = set(got[0]) if got is not None else set()
        if got is not None:
            mine = {stem: path for stem, path in theirs}
            rows = [stem in mine for stem in got[0]]  # a file that appeared after this listing is not taken
            records = pa.concat_arrays(got[1]) if got[1] else pa.array([], DOCUMENT)
            if not all(rows):
                records = records.filter(pa.array(rows))
            out.chunks.append(records)
            out.files += [AnnotationFile(stem, mine[stem]) for stem, keep in zip(got[0], rows) if keep]
            out.keys += [None] * len(records)
        rest = [(stem, path) for stem, path in theirs if stem not in done]
        if rest:  # read here: the helper left them out (a problem to explain) or failed
            out.chunks += _read_here(out, schemas, locator, prefix, rest)
    return out


def _read_here(out: Annotations, schemas: Schemas, locator: Locator, prefix: str,
               files: list[tuple[str, str]]) -> list[pa.Array]:
    """Annotation files read in this process after all; their records."""
    batch = [data for stem, path in files
             if (data := _read_one(out, schemas, locator, f"{prefix}/{stem}.json", stem, path, None)) is not None]
    return [pa.array(batch, type=DOCUMENT)] if batch else []


def _read_one(out: Annotations, schemas: Schemas, locator: Locator, shown: str, stem: str, path: str,
              key: str | None, raw: bytes | None = None) -> dict | None:
    """One annotation file through levels 1-2: its content, or None and its problems added to ``out``."""
    p = out.problems
    data, found = read_json_file(path, shown, raw, shallow=schemas.validator("annotations"))
    p += found
    if data is None:
        return None
    errors = schemas.errors("annotations", data)
    for e in errors:
        code = "F007" if e.pointer == "/document" and e.code == "S006" else e.code
        p.append(Problem(shown, *locator.locate(Path(path), e.pointer, e.at_key), code, e.message, e.hint))
    if errors:
        return None
    if data["document"] != stem:
        p.append(Problem(shown, *locator.locate(Path(path), "/document"), "F006",
                         f"document {data['document']!r} does not match the file name {stem + '.json'!r}",
                         f"the document of {stem}.json is {stem!r}; or rename the file"))
        return None
    out.files.append(AnnotationFile(stem, path))
    out.keys.append(key)
    return data


@dataclass
class Tables:
    """The flattened corpus: one Arrow table per layer, keyed by document id.

    Annotation tables carry ``document`` and ``index`` (the row's position in its
    file's list); ``arguments`` carries ``event_index`` and ``index`` (position in the
    event's argument list). Rows are in that order: by document id, then index
    (arguments: document, event_index, index); the release relies on it.
    """

    documents: pa.Table
    mentions: pa.Table
    events: pa.Table
    arguments: pa.Table
    quotes: pa.Table
    flags: pa.Table
    entities: pa.Table
    xdoc_events: pa.Table


def only(tables: "Tables", documents: set[str]) -> "Tables":
    """The same tables restricted to some documents (registries unchanged)."""
    keep = pa.array(sorted(documents), pa.string())

    def f(table: pa.Table, column: str = "document") -> pa.Table:
        return table.filter(pc.is_in(table.column(column), value_set=keep))

    return Tables(documents=f(tables.documents, "id"), mentions=f(tables.mentions), events=f(tables.events),
                  arguments=f(tables.arguments), quotes=f(tables.quotes), flags=f(tables.flags),
                  entities=tables.entities, xdoc_events=tables.xdoc_events)


def _explode(lists: pa.ListArray, parent_keys: pa.Array) -> pa.Table:
    """The items of a list column as a table, with their parent's key and their index."""
    values = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    offsets = lists.offsets.to_numpy()
    index = np.arange(len(values), dtype=np.int64) - offsets[parents]
    table = pa.Table.from_struct_array(values) if len(values) else pa.Table.from_batches([], schema=pa.schema(list(values.type)))
    table = table.flatten()
    table = table.rename_columns([c.replace(".", "_") for c in table.column_names])
    return table.add_column(0, "index", pa.array(index, pa.int64())).add_column(
        0, "_parent", pa.array(parents, pa.int64())).add_column(0, "document", parent_keys.take(pa.array(parents, pa.int64())))


def flatten(chunks: list[pa.Array], documents: pa.Table, entities: list[dict] | None,
            xdoc_events: list[dict] | None) -> Tables:
    """The annotation files of the corpus documents (others are left out) as one table per layer."""
    docs = pa.concat_arrays(chunks) if chunks else pa.array([], DOCUMENT)
    known = pc.is_in(docs.field("document"), value_set=documents.column("id").combine_chunks())
    if not pc.all(known).as_py():
        docs = docs.filter(known)
    order = pc.sort_indices(docs.field("document"))
    if not pc.all(pc.equal(order, pa.array(np.arange(len(docs), dtype=np.uint64)))).as_py():
        docs = docs.take(order)  # (files read in name order need no copy)
    if len(docs):
        keys = docs.field("document")
        tables = {layer: _explode(docs.field(layer), keys) for layer in LAYERS}
    else:
        keys = pa.array([], pa.string())
        tables = {layer.name: _explode(pa.array([], pa.list_(layer.struct)), keys) for layer in LAYER_TABLE}
    events = tables["events"]
    args = _explode(events.column("arguments").combine_chunks(), events.column("index").combine_chunks())
    args = args.rename_columns(["event_index" if c == "document" else c for c in args.column_names])
    args = args.add_column(0, "document", events.column("document").take(args.column("_parent")))
    return Tables(
        documents=documents,
        mentions=tables["mentions"].drop_columns(["_parent"]),
        events=events.drop_columns(["_parent", "arguments"]),
        arguments=args.drop_columns(["_parent"]),
        quotes=tables["quotes"].drop_columns(["_parent"]),
        flags=tables["flags"].drop_columns(["_parent"]),
        entities=pa.Table.from_pylist(entities or [], schema=ENTITY),
        xdoc_events=pa.Table.from_pylist(xdoc_events or [], schema=XDOC_EVENT),
    )
