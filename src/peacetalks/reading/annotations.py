"""Stage 3, annotations: reading the hand-curated files and flattening them to Arrow tables.

annotations/documents/<id>.json   one file per corpus document (mentions, events, quotes, flags)
annotations/entities.json         the entity registry (corpus level)
annotations/xdoc-events.json      the cross-document event registry
annotations/layers.json           per-layer provenance and annotation process
annotations/allow.json            reviewed warnings, each accepted with a reason (optional)
annotations/agreement.json        the figures of a double annotation (optional; the card reports them)

Files pass level 1 (files) and level 2 (JSON Schema) here; what passes is flattened,
without per-annotation Python loops, into one Arrow table per layer. Every row keeps
its document id and its index in the file, so a problem found in a table can be
placed back at its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..diagnostics.locate import Locator
from ..diagnostics.problems import Problem, quoted
from ..model.layers import (
    DOCUMENT,
    ENTITY,
    LAYER_TABLE,
    LAYERS,
    XDOC_EVENT,
)
from ..model.schemas import Schemas
from .corpus import DOCUMENT_COLUMNS
from .files import (
    listing,
    odd_entry,
    read_json_file,
)
from .project import Project


@dataclass
class Registries:
    """The corpus-level annotation files after levels 1-2 (None: missing or invalid), and their problems."""

    entities: list[dict] | None = None
    xdoc_events: list[dict] | None = None
    layers: dict | None = None
    agreement: dict | None = None
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


def load_registries(project: Project, schemas: Schemas, locator: Locator) -> Registries:
    """The entity and event registries, the layer provenance, the allow-list and the agreement figures
    through levels 1-2."""
    out = Registries()
    p = out.problems
    out.entities = _registry(project, schemas, locator, project.entities, "entities", "entities", p)
    out.xdoc_events = _registry(project, schemas, locator, project.xdoc_events, "xdoc-events", "events", p)
    if project.layers.exists():
        out.layers = _registry(project, schemas, locator, project.layers, "layers", None, p)
    if project.allow.exists():
        out.allow = _registry(project, schemas, locator, project.allow, "allow", "allow", p) or []
    if project.agreement.exists():
        out.agreement = _registry(project, schemas, locator, project.agreement, "agreement", None, p)
    return out


def list_documents(project: Project, schemas: Schemas, lister=listing) -> tuple[dict[str, str], list[Problem]]:
    """The annotation files of annotations/documents/ (document id -> path, in id order) and the
    problems of the folder listing (F007 unsafe names, F008 stray entries): the corpus-level part
    of level 1. Reading each file is ``read_document``; ``lister``: as ``corpus.list_corpus``'s, whose
    entries are sorted out a column at a time too."""
    files: dict[str, str] = {}
    p: list[Problem] = []
    if not project.documents.is_dir():
        return files, p
    folder, prefix = str(project.documents), project.rel(project.documents)
    entries = lister(folder)
    names, regular = entries.names, entries.regular
    lower, length = pc.utf8_lower(names), pc.utf8_length(names)
    shown = pc.invert(pc.starts_with(names, "."))
    yaml = pc.or_(pc.and_(pc.ends_with(lower, ".yaml"), pc.greater(length, 5)),
                  pc.and_(pc.ends_with(lower, ".yml"), pc.greater(length, 4)))  # (an id before the suffix)
    ids = entries.id_files(".json")  # (a name that is not UTF-8 is no id: F007, named as ``os`` gives it)
    odd = pc.indices_nonzero(pc.and_(shown, pc.invert(ids)))
    json = entries.files(".json")
    for row, *kind in zip(odd.to_pylist(), *(a.take(odd).to_pylist() for a in (regular, yaml, json))):
        p.append(_odd_document_file(folder, prefix, entries.name(row), *kind))
    for stem in entries.stems(ids, ".json"):
        if schemas.is_valid_id(stem):
            files[stem] = f"{folder}/{stem}.json"
        else:
            p.append(_unsafe_id(prefix, f"{stem}.json"))
    return files, p


def _unsafe_id(prefix: str, name: str) -> Problem:
    return Problem(f"{prefix}/{name}", 1, 1, "F007", f"file name {quoted(name)} is not a safe document id",
                   "letters, digits, '.', '_' and '-' only, starting with a letter or digit")


def _odd_document_file(folder: str, prefix: str, name: str, is_file: bool, is_yaml: bool,
                        is_json: bool) -> Problem:
    """The problem of an entry of annotations/documents/ that is no <document id>.json file (F008), or of a
    <name>.json file whose name is not UTF-8, so no id (``is_json``: F007)."""
    if is_json:
        return _unsafe_id(prefix, name)
    shown = f"{prefix}/{name}"
    if is_yaml:
        stem = name.rpartition(".")[0]
        return Problem(shown, 1, 1, "F008", "annotation files are JSON; YAML files are not read",
                       f"convert it to {stem}.json (YAML is never parsed, so its tags cannot run)")
    if not is_file:
        return Problem(shown, 1, 1, "F008", f"unexpected entry in annotations/documents/: {odd_entry(f'{folder}/{name}')}",
                       "it holds only <document id>.json files")
    return Problem(shown, 1, 1, "F008", "unexpected file in annotations/documents/",
                   "it holds only <document id>.json files")


def read_document(project: Project, schemas: Schemas, locator: Locator, stem: str, path: str,
                  raw: bytes | None = None, prefix: str | None = None) -> tuple[dict | None, list[Problem]]:
    """One annotation file through levels 1-2: its content, or None and its problems (``raw``: its
    bytes, already read; ``prefix``: ``project.rel(project.documents)``, for a caller that reads many).
    The per-document part of reading the annotations."""
    shown = f"{project.rel(project.documents) if prefix is None else prefix}/{stem}.json"
    data, p = read_json_file(path, shown, raw, shallow=schemas.validator("annotations"))
    if data is None:
        return None, p
    errors = schemas.errors("annotations", data)
    for e in errors:
        code = "F007" if e.pointer == "/document" and e.code == "S006" else e.code
        p.append(Problem(shown, *locator.locate(Path(path), e.pointer, e.at_key), code, e.message, e.hint))
    if errors:
        return None, p
    if data["document"] != stem:
        p.append(Problem(shown, *locator.locate(Path(path), "/document"), "F006",
                         f"document {data['document']!r} does not match the file name {stem + '.json'!r}",
                         f"the document of {stem}.json is {stem!r}; or rename the file"))
        return None, p
    return data, p


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


#: the tables of a layer's entries' own lists (an event's arguments): (layer, list and table name, the
#: column of the entry's index in its layer: ``event_index``)
CHILDREN = tuple((layer.name, name, f"{layer.item}_index") for layer in LAYER_TABLE for name in layer.lists)
#: the per-document tables of ``Tables``: one per layer, one per list inside a layer's entries
DOCUMENT_TABLES = (*LAYERS, *(child for _, child, _ in CHILDREN))


def _replace(tables: "Tables", make, documents=None) -> "Tables":
    """``tables`` with each per-document table ``make(name, table)`` (and ``documents``, if given)."""
    return replace(tables, documents=tables.documents if documents is None else documents,
                   **{name: make(name, getattr(tables, name)) for name in DOCUMENT_TABLES})


def only(tables: "Tables", documents: set[str]) -> "Tables":
    """The same tables restricted to some documents (registries unchanged)."""
    keep = pa.array(sorted(documents), pa.string())

    def f(table: pa.Table, column: str = "document") -> pa.Table:
        return table.filter(pc.is_in(table.column(column), value_set=keep))

    return _replace(tables, lambda name, table: f(table), f(tables.documents, "id"))


def _explode(lists: pa.ListArray, parent_keys: pa.Array) -> pa.Table:
    """The items of a list column as a table, with their parent's key and their index."""
    values = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    offsets = lists.offsets.to_numpy()  # (of a slice: not shifted to 0)
    index = np.arange(len(values), dtype=np.int64) - (offsets[parents] - offsets[0])
    table = pa.Table.from_struct_array(values) if len(values) else pa.Table.from_batches([], schema=pa.schema(list(values.type)))
    table = table.flatten()
    table = table.rename_columns([c.replace(".", "_") for c in table.column_names])
    return table.add_column(0, "index", pa.array(index, pa.int64())).add_column(
        0, "_parent", pa.array(parents, pa.int64())).add_column(0, "document", parent_keys.take(pa.array(parents, pa.int64())))


def flatten(records: pa.Array | pa.ChunkedArray, documents: pa.Table, layers: tuple[str, ...] = LAYERS) -> Tables:
    """Annotation records (of ``documents``, by document id; others are left out) as one table per
    layer; the registries are left empty (``merge`` adds them). Records in chunks that are already
    in document order (the cache's slices) are flattened chunk by chunk, without a copy of them.
    Only the ``layers`` named are flattened (with their entries' lists); the others' tables are empty."""
    if not layers:  # (the documents' rows only: no records to look at)
        return _flatten(pa.array([], DOCUMENT), documents, layers, ordered=True)
    if isinstance(records, pa.ChunkedArray):
        ids = pc.struct_field(records, [0]).combine_chunks() if records.num_chunks else pa.array([], pa.string())
        if records.num_chunks > 1 and len(ids) and pc.all(pc.is_in(ids, value_set=documents.column("id"))).as_py() \
                and pc.all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py():
            parts = [_flatten(chunk, documents, layers, ordered=True) for chunk in records.chunks]
            return _replace(parts[0], lambda name, _: pa.concat_tables([getattr(t, name) for t in parts]))
        records = records.combine_chunks() if records.num_chunks else pa.array([], DOCUMENT)
    return _flatten(records, documents, layers)


def _flatten(records: pa.Array, documents: pa.Table, layers: tuple[str, ...] = LAYERS, ordered: bool = False) -> Tables:
    """``flatten`` of one array of records (``ordered``: known to be documents of ``documents``, in order)."""
    docs = records
    if not ordered:
        known = pc.is_in(docs.field("document"), value_set=documents.column("id").combine_chunks())
        if not pc.all(known).as_py():
            docs = docs.filter(known)
        order = pc.sort_indices(docs.field("document"))
        if not pc.all(pc.equal(order, pa.array(np.arange(len(docs), dtype=np.uint64)))).as_py():
            docs = docs.take(order)  # (files read in name order need no copy)
    keys = docs.field("document") if len(docs) else pa.array([], pa.string())
    tables = {layer.name: _explode(docs.field(layer.name) if len(docs) and layer.name in layers
                                   else pa.array([], pa.list_(layer.struct)), keys)  # (else: its empty table)
              for layer in LAYER_TABLE}
    out = {}
    for layer in LAYER_TABLE:
        table = tables[layer.name]
        for _, child, index in (c for c in CHILDREN if c[0] == layer.name):
            items = _explode(table.column(child).combine_chunks(), table.column("index").combine_chunks())
            items = items.rename_columns([index if c == "document" else c for c in items.column_names])
            items = items.add_column(0, "document", table.column("document").take(items.column("_parent")))
            out[child] = items.drop_columns(["_parent"])
            table = table.drop_columns([child])
        out[layer.name] = table.drop_columns(["_parent"])
    return Tables(documents=documents, **out, entities=ENTITY.empty_table(), xdoc_events=XDOC_EVENT.empty_table())


def metadata_only(tables: Tables) -> Tables:
    """The documents' metadata (no text) and no annotations: what a streaming build keeps of a shard."""
    documents = tables.documents
    return replace(_replace(tables, lambda name, table: table.schema.empty_table(),
                            documents.drop_columns(["text"]) if "text" in documents.column_names else documents),
                   entities=tables.entities.schema.empty_table(), xdoc_events=tables.xdoc_events.schema.empty_table())


def _bisect(column: pa.ChunkedArray, value: str) -> int:
    """How many values of a sorted string column are less than ``value``."""
    lo, hi = 0, len(column)
    while lo < hi:
        mid = (lo + hi) // 2
        if column[mid].as_py() < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def interleave(base: Tables, extra: Tables) -> Tables:
    """``base`` with the documents of ``extra`` (none of base's) put in their places, both in document
    order: what flattening them all in document order gives, as slices of the two (no copy). The
    registries are base's."""
    def table(name: str, key: str) -> pa.Table:
        b, e = getattr(base, name), getattr(extra, name)
        if not e.num_rows:
            return b
        if not b.num_rows:
            return e.cast(b.schema)
        b_keys, e_keys = b.column(key), e.column(key).to_pylist()
        pieces, at, start = [], 0, 0
        for i in range(1, len(e_keys) + 1):
            if i == len(e_keys) or e_keys[i] != e_keys[start]:  # rows start..i-1 are one document's
                place = _bisect(b_keys, e_keys[start])
                pieces += [b.slice(at, place - at), e.slice(start, i - start).cast(b.schema)]
                at, start = place, i
        pieces.append(b.slice(at))
        return pa.concat_tables(pieces)

    return _replace(base, lambda name, _: table(name, "document"), table("documents", "id"))


def merge(parts: list[Tables], entities: list[dict] | None, xdoc_events: list[dict] | None) -> Tables:
    """The tables of document shards (in document order) as one corpus, with the registries. Each
    table is one chunk, as if the corpus had been flattened at once: what is built from it does
    not depend on how the documents were sharded."""
    def cat(name: str) -> pa.Table:
        tables = [getattr(t, name) for t in parts]
        return pa.concat_tables(tables).combine_chunks() if len(tables) > 1 else tables[0].combine_chunks()

    if not parts:
        parts = [flatten(pa.array([], DOCUMENT), DOCUMENT_COLUMNS.empty_table())]
    return replace(_replace(parts[0], lambda name, _: cat(name), cat("documents")),
                   entities=pa.Table.from_pylist(entities or [], schema=ENTITY),
                   xdoc_events=pa.Table.from_pylist(xdoc_events or [], schema=XDOC_EVENT))
