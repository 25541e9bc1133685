"""Stage 2, the corpus: reading corpus/<id>.txt and corpus/<id>.json (levels 1-2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .files import Locator, read_json_file, read_text_file
from .problems import Problem
from .project import Project
from .schemas import Schemas

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


def load_corpus(project: Project, schemas: Schemas, locator: Locator) -> tuple[list[Document], list[Problem]]:
    """Every corpus document that passes levels 1-2, in id order, and the problems of the rest."""
    problems: list[Problem] = []
    if not project.corpus.is_dir():
        return [], [Problem(project.rel(project.corpus), 1, 1, "F009", "corpus/ folder is missing",
                            "run `peacetalks ingest` to produce it from seeds/")]
    stems: dict[str, set[str]] = {}
    for path in sorted(project.corpus.iterdir()):
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue
        if not path.is_file() or path.suffix not in (".txt", ".json"):
            problems.append(Problem(project.rel(path), 1, 1, "F008", "unexpected file in corpus/",
                                    "corpus/ holds only <id>.txt and <id>.json pairs written by `peacetalks ingest`"))
            continue
        stems.setdefault(path.stem, set()).add(path.suffix)
    documents = []
    for stem, suffixes in sorted(stems.items()):
        txt, meta_path = project.corpus / f"{stem}.txt", project.corpus / f"{stem}.json"
        if suffixes != {".txt", ".json"}:
            have, missing = (txt, meta_path) if ".txt" in suffixes else (meta_path, txt)
            problems.append(Problem(project.rel(have), 1, 1, "F009", f"{missing.name} is missing beside it",
                                    "run `peacetalks ingest` to regenerate corpus/ from seeds/"))
            continue
        doc = _load_one(project, schemas, locator, stem, txt, meta_path, problems)
        if doc is not None:
            documents.append(doc)
    return documents, problems


def _load_one(project, schemas, locator, stem, txt: Path, meta_path: Path, problems: list[Problem]) -> Document | None:
    shown_meta, shown_txt = project.rel(meta_path), project.rel(txt)
    meta, found = read_json_file(meta_path, shown_meta)
    text, found_txt = read_text_file(txt, shown_txt)
    problems += found + found_txt
    if meta is None or text is None:
        return None
    ok = True
    for e in schemas.errors("corpus", meta):
        problems.append(Problem(shown_meta, *locator.locate(meta_path, e.pointer, e.at_key), e.code, e.message, e.hint))
        ok = False
    if ok and meta["id"] != stem:
        problems.append(Problem(shown_meta, *locator.locate(meta_path, "/id"), "F006",
                                f"id {meta['id']!r} does not match the file name {meta_path.name!r}",
                                f"the id of {meta_path.name} is {stem!r}"))
        ok = False
    if not text.endswith("\n") or text.endswith("\n\n") or not text.strip():
        if not text.strip():
            problems.append(Problem(shown_txt, 1, 1, "F010", "document text is empty", None))
        else:
            problems.append(Problem(shown_txt, text.count("\n") + 1, 1, "F003",
                                    "a corpus text ends with exactly one LF", "run `peacetalks ingest`"))
        ok = False
    return Document(stem, meta, text[:-1]) if ok else None


def documents_table(documents: list[Document]) -> pa.Table:
    """One row per document: metadata and text."""
    rows = [{**{k: d.meta.get(k) for k in ("id", "title", "date", "outlet", "author", "url", "language")},
             "source_file": d.meta["source"]["file"], "source_sha256": d.meta["source"]["sha256"],
             "normaliser": d.meta["source"]["normaliser"], "text": d.text} for d in documents]
    return pa.Table.from_pylist(rows, schema=DOCUMENT_COLUMNS)
