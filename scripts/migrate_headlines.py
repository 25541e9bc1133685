#!/usr/bin/env python3
"""Migrate a peacetalks checkout from schema 1 to schema 2: the headline becomes text.

Schema 1 (normaliser 1.0) kept a document's headline in ``title`` only, outside the text,
so it could not be annotated. Schema 2 (normaliser 2.0) keeps it as the text's first
paragraph as well; every offset into the body moves by the headline's length plus one.

The migration, per document, in this order (nothing is written if any document fails):

1. Read the schema-1 text (``corpus/<id>.txt``, normaliser 1.0) and normalise the seed
   again with today's normaliser. The new text must be the old text with the headline
   and one LF before it; anything else is reported and the checkout left untouched.
2. Recompute every span of the annotation file (every object with ``start``, ``end`` and
   ``text``: mentions, triggers, quote contents and cues, flag spans) from its text and
   its occurrence: the span is the k-th occurrence of its text in the old text; it
   becomes the k-th occurrence of that text in the new body. Offsets are never shifted
   by hand, and a span whose text does not match the old text is an error.
3. Write the new corpus files (as ``peacetalks ingest`` writes them) and the annotation
   file in canonical form (as ``peacetalks fmt`` writes it).

Documents already at normaliser 2.0 are left alone, so running it twice changes nothing.
Usage: ``python scripts/migrate_headlines.py [--root DIR] [--dry-run]``; exit 0 when done,
1 when a document cannot be migrated (each reported as ``path:line:col: CODE message``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peacetalks.defaults import MAX_SEED_BYTES
from peacetalks.diagnostics.locate import Locator
from peacetalks.diagnostics.problems import Problem
from peacetalks.reading.files import (
    atomic_write,
    dump_records,
    read_bytes,
    read_json_file,
    read_text_file,
)
from peacetalks.reading.ingest import NORMALISER_VERSION, normalise
from peacetalks.reading.project import Project, ProjectError
from peacetalks.tools.fmt import DOC_LISTS, format_document

FROM_NORMALISER = "1.0"


def _places(text: str, needle: str) -> list[int]:
    """Every start of ``needle`` in ``text``, overlapping ones included."""
    out, at = [], text.find(needle)
    while at != -1:
        out.append(at)
        at = text.find(needle, at + 1)
    return out


def _spans(value, pointer: str = ""):
    """Every span object in an annotation file with its JSON pointer, in file order."""
    if isinstance(value, dict):
        if isinstance(value.get("start"), int) and isinstance(value.get("end"), int) and isinstance(value.get("text"), str):
            yield pointer, value
        for k, v in value.items():
            yield from _spans(v, f"{pointer}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _spans(v, f"{pointer}/{i}")


def migrate_document(old_text: str, new_text: str, data: dict, shown: str,
                     place=lambda pointer: (1, 1)) -> tuple[dict | None, list[Problem]]:
    """The annotation file ``data`` with its spans recomputed in ``new_text`` (``place``: a JSON pointer's line, column)."""
    body = len(new_text) - len(old_text)
    if body < 0 or new_text[body:] != old_text or (body and new_text[body - 1] != "\n"):
        return None, [Problem(shown, 1, 1, "D001", "the new text is not the old text with a headline line before it",
                              "migrate from a checkout whose corpus/ matches its seeds (run the old `peacetalks ingest`)")]
    problems = []
    moved = []
    for pointer, span in _spans(data):
        start, end, text = span["start"], span["end"], span["text"]
        if old_text[start:end] != text or not text or start < 0:
            problems.append(Problem(shown, *place(pointer), "T001", f"span {start}-{end} {text!r} does not match the old text",
                                    "fix the span with the old text before migrating"))
            continue
        occurrence = _places(old_text, text).index(start)
        new_start = [p for p in _places(new_text, text) if p >= body][occurrence]
        moved.append((span, new_start, new_start + len(text)))
    if problems:
        return None, problems
    for span, start, end in moved:
        span["start"], span["end"] = start, end
        assert new_text[start:end] == span["text"]
    return format_document(data, None), []


def migrate(project: Project, dry_run: bool = False) -> tuple[list[str], list[Problem]]:
    """Migrate every document of ``project``; returns the files written (or that would be)."""
    writes: dict[Path, bytes] = {}
    problems: list[Problem] = []
    locator = Locator()
    for meta_path in sorted(project.corpus.glob("*.json")):
        shown_meta = project.rel(meta_path)
        meta, found = read_json_file(meta_path, shown_meta)
        source = meta.get("source") if isinstance(meta, dict) else None
        if found or not isinstance(source, dict) or not isinstance(meta.get("id"), str):
            problems += found or [Problem(shown_meta, 1, 1, "S001", "not a corpus record (no id or source)",
                                          "run `peacetalks check` and fix the record first")]
            continue
        doc = meta["id"]
        if source.get("normaliser") != FROM_NORMALISER:
            continue  # already migrated (or newer)
        seed = project.seeds / str(source.get("file"))
        seed_bytes, found = read_bytes(seed, project.rel(seed), MAX_SEED_BYTES)
        old_text, found_text = read_text_file(project.corpus / f"{doc}.txt", project.rel(project.corpus / f"{doc}.txt"))
        if seed_bytes is None or old_text is None:
            problems += found + found_text
            continue
        record = normalise(seed_bytes, seed.name)
        for name, content in record.files().items():
            writes[project.corpus / name] = content
        ann_path = project.documents / f"{doc}.json"
        if not ann_path.exists():
            continue
        data, found = read_json_file(ann_path, project.rel(ann_path))
        if found or not isinstance(data, dict):
            problems += found or [Problem(project.rel(ann_path), 1, 1, "S001", "not a JSON object", None)]
            continue
        migrated, found = migrate_document(old_text.removesuffix("\n"), record.text, data, project.rel(ann_path),
                                           lambda pointer, path=ann_path: locator.locate(path, pointer))
        problems += found
        if migrated is not None:
            writes[ann_path] = dump_records(migrated, DOC_LISTS)
    if problems:
        return [], problems
    changed = [path for path, content in sorted(writes.items()) if not path.exists() or path.read_bytes() != content]
    if not dry_run:
        for path in changed:
            atomic_write(path, writes[path])
    return [project.rel(p) for p in changed], []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="the checkout to migrate (default: the current folder)")
    parser.add_argument("--dry-run", action="store_true", help="list the files that would change, write nothing")
    args = parser.parse_args(argv)
    try:
        project = Project.find(Path(args.root))
    except ProjectError as e:
        print(f"migrate_headlines: {e}", file=sys.stderr)
        return 2
    written, problems = migrate(project, args.dry_run)
    for p in problems:
        print(p.render(), file=sys.stderr)
    if problems:
        print(f"nothing written: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    verb = "would write" if args.dry_run else "wrote"
    for path in written:
        print(f"{verb} {path}")
    print(f"{len(written)} file(s) {'would change' if args.dry_run else 'changed'} "
          f"(normaliser {FROM_NORMALISER} -> {NORMALISER_VERSION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
