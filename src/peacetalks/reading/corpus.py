"""Stage 2, the corpus: reading corpus/<id>.txt and corpus/<id>.json (levels 1-2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..defaults import MAX_JSON_BYTES, MAX_TEXT_BYTES
from ..diagnostics.locate import Locator
from ..diagnostics.problems import Problem
from ..model.schemas import Schemas
from .files import listing, odd_entry, read_bytes, read_json_file, read_text_file
from .project import Project

DOCUMENT_COLUMNS = pa.schema([
    ("id", pa.string()),
    ("title", pa.string()),
    ("date", pa.string()),
    ("outlet", pa.string()),
    ("author", pa.string()),
    ("url", pa.string()),
    ("language", pa.string()),
    ("source_file", pa.string()),
    ("source_sha256", pa.string()),
    ("normaliser", pa.string()),
    ("text", pa.large_string()),
])


@dataclass(frozen=True)
class Document:
    id: str
    meta: dict
    text: str


def list_corpus(project: Project, lister=listing) -> tuple[list[str], list[Problem]]:
    """The ids of corpus/'s <id>.txt and <id>.json pairs, in id order, and the problems of the folder
    listing (a stray entry, a half pair): the corpus-level part of level 1. ``lister``: what lists a
    folder (``files.listing``, or the stat index's, which knows unchanged folders). The entries are
    sorted out a column at a time (``files.Listing``); only the odd ones are looked at one by one."""
    problems: list[Problem] = []
    if not project.corpus.is_dir():
        return [], [Problem(project.rel(project.corpus), 1, 1, "F009", "corpus/ folder is missing",
                            "run `peacetalks ingest` to produce it from seeds/")]
    folder, prefix = str(project.corpus), project.rel(project.corpus)
    hint = "corpus/ holds only <id>.txt and <id>.json pairs written by `peacetalks ingest`"
    entries = lister(folder)
    names, regular, utf8 = entries.names, entries.regular, entries.utf8()
    temporary = pc.and_(pc.starts_with(names, "."), pc.ends_with(names, ".tmp"))  # (``files.atomic_file``'s)
    pair = {suffix: pc.and_(utf8, entries.files(suffix))
            for suffix in (".txt", ".json")}  # (an <id>.txt or <id>.json file, its id not empty and UTF-8)
    stray = pc.indices_nonzero(pc.invert(pc.or_(temporary, pc.or_(pair[".txt"], pair[".json"]))))
    for row, name, is_file, is_utf8 in zip(stray.to_pylist(), *(a.take(stray).to_pylist()
                                                                for a in (names, regular, utf8))):
        what = "unexpected file in corpus/: its name is not UTF-8" if not is_utf8 else \
            "unexpected file in corpus/" if is_file else \
            f"unexpected entry in corpus/: {odd_entry(f'{folder}/{entries.name(row)}')}"
        problems.append(Problem(f"{prefix}/{name}", 1, 1, "F008", what, hint))
    texts, metas = (pc.utf8_slice_codeunits(names.filter(pair[s]), 0, -len(s)) for s in (".txt", ".json"))
    for stems, have, missing, others in ((texts, ".txt", ".json", metas), (metas, ".json", ".txt", texts)):
        for stem in stems.filter(pc.invert(pc.is_in(stems, value_set=others))).to_pylist():
            problems.append(Problem(f"{prefix}/{stem}{have}", 1, 1, "F009", f"{stem}{missing} is missing beside it",
                                    "run `peacetalks ingest` to regenerate corpus/ from seeds/"))
    ids = texts.filter(pc.is_in(texts, value_set=metas))
    return ids.take(pc.sort_indices(ids)).to_pylist(), problems


def corpus_files(folder: str, stem: str) -> tuple[str, str]:
    """The paths of a corpus document's text and metadata in the corpus ``folder`` (``str(project.corpus)``),
    as every reader names them."""
    return f"{folder}/{stem}.txt", f"{folder}/{stem}.json"


def read_documents(project: Project, schemas: Schemas, locator: Locator, ids: list[str],
                   stamps: dict | None = None) -> tuple[list[Document], list[Problem]]:
    """These corpus documents (their pairs exist) through levels 1-2: the ones that pass, and the
    problems of the others. The per-document part of reading the corpus (``stamps``: see
    ``files.read_bytes``)."""
    problems: list[Problem] = []
    prefix, folder = project.rel(project.corpus), str(project.corpus)
    documents = [doc for stem in ids
                 if (doc := _load_one(schemas, locator, stem, corpus_files(folder, stem), prefix, problems, stamps))
                 is not None]
    return documents, problems


def _load_one(schemas, locator, stem: str, paths: tuple[str, str], prefix: str, problems: list[Problem],
              stamps: dict | None) -> Document | None:
    shown_meta, shown_txt = f"{prefix}/{stem}.json", f"{prefix}/{stem}.txt"
    txt_path, meta_path = paths
    meta, found = None, []
    raw, found = read_bytes(meta_path, shown_meta, MAX_JSON_BYTES, stamps)
    if raw is not None:
        meta, found = read_json_file(meta_path, shown_meta, raw, shallow=schemas.validator("corpus"))
    text, found_txt = None, []
    raw, found_txt = read_bytes(txt_path, shown_txt, MAX_TEXT_BYTES, stamps)
    if raw is not None:
        text, found_txt = read_text_file(txt_path, shown_txt, MAX_TEXT_BYTES, raw)
    problems += found + found_txt
    if meta is None or text is None:
        return None
    ok = True
    for e in schemas.errors("corpus", meta):
        problems.append(Problem(shown_meta, *locator.locate(Path(meta_path), e.pointer, e.at_key), e.code, e.message,
                                e.hint))
        ok = False
    if ok and meta["id"] != stem:
        problems.append(Problem(shown_meta, *locator.locate(Path(meta_path), "/id"), "F006",
                                f"id {meta['id']!r} does not match the file name {stem + '.json'!r}",
                                f"the id of {stem}.json is {stem!r}"))
        ok = False
    if not text.endswith("\n") or text.endswith("\n\n") or text.isspace():
        if not text or text.isspace():
            problems.append(Problem(shown_txt, 1, 1, "F010", "document text is empty", None))
        else:
            problems.append(Problem(shown_txt, text.count("\n") + 1, 1, "F003",
                                    "a corpus text ends with exactly one LF", "run `peacetalks ingest`"))
        ok = False
    return Document(stem, meta, text[:-1]) if ok else None


def documents_table(documents: list[Document]) -> pa.Table:
    """One row per document: metadata and text."""
    columns = {k: [d.meta.get(k) for d in documents] for k in ("id", "title", "date", "outlet", "author", "url", "language")}
    sources = [d.meta["source"] for d in documents]
    columns |= {"source_file": [s["file"] for s in sources], "source_sha256": [s["sha256"] for s in sources],
                "normaliser": [s["normaliser"] for s in sources], "text": [d.text for d in documents]}
    return pa.Table.from_pydict(columns, schema=DOCUMENT_COLUMNS)  # column by column: no dict per row
