"""A content-hash cache of per-document validation (levels 1-3), so that a change to one
document does not pay for re-checking ten thousand unchanged ones.

What is cached is exactly what depends on one document's own files: its annotation
file passed levels 1-3 (encoding, JSON, schema, spans against its text), and the
candidate warnings found in its text (W009, W010: they read only the text and the
document's own annotations; null until a run with warnings has searched it). The key
of a document is the sha256 of its annotation file's bytes and its corpus text and
metadata; the cache file itself is named after a hash of the package version, the
package's own code and every schema file, so that any change to the rules starts a
fresh cache. Corpus-level checks (references, tables, the other warnings) always run
over the whole corpus: they are vectorised and involve other files.

The cache is one Arrow IPC file (``.peacetalks-cache/validated-<salt>.arrow``, or under
``$PEACETALKS_CACHE_DIR``) with a ``key`` column and the validated ``record``. It is
written atomically and is only an accelerator: a missing, unreadable or corrupt cache
is ignored, and a cache that cannot be written is skipped, never an error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..model.layers import DOCUMENT
from .files import atomic_write

#: a cached warning of one document: its file (the document's text or annotation file), place, code,
#: message and hint
WARNING = pa.struct([("path", pa.string()), ("line", pa.int64()), ("column", pa.int64()), ("code", pa.string()),
                     ("message", pa.string()), ("hint", pa.string())])
SCHEMA = pa.schema([("key", pa.string()), ("record", DOCUMENT), ("candidates", pa.list_(WARNING))])


def document_key(annotation: bytes, text_digest: str) -> str:
    return hashlib.sha256(annotation + b"\0" + text_digest.encode()).hexdigest()


def text_digest(text: str, meta: bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") + b"\0" + meta).hexdigest()


def _salt(schema_dir: Path) -> str:
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]  # every module of the package, subpackages included
    for path in sorted(package.rglob("*.py")) + sorted(schema_dir.glob("*.json")):
        h.update(str(path.relative_to(package) if path.is_relative_to(package) else path.name).encode()
                 + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def cache_path(folder: Path, schema_dir: Path) -> Path:
    """The cache file of this package's code and these schemas in ``folder``."""
    return folder / f"validated-{_salt(schema_dir)}.arrow"


class Cache:
    """The cache file at ``path`` (see ``cache_path``), memory-mapped; empty if it is missing or damaged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.table = SCHEMA.empty_table()
        self.rows: dict[str, int] = {}
        try:
            with pa.memory_map(str(self.path)) as source:
                table = pa.ipc.open_file(source).read_all()
            if table.schema.equals(SCHEMA):
                self.table = table
                self.rows = {k: i for i, k in enumerate(table.column("key").to_pylist())}
        except Exception:  # noqa: BLE001 - no cache, or a damaged one: start empty
            pass

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def records(self, keys: list[str]) -> pa.Array:
        """The cached validated records of these keys, in this order."""
        if not keys:
            return pa.array([], DOCUMENT)
        rows = pa.array([self.rows[k] for k in keys], pa.int64())
        return self.table.column("record").take(rows).combine_chunks()

    def candidates(self, keys: list[str]) -> list[list[dict] | None]:
        """The cached candidate warnings of these keys (None where never searched)."""
        if not keys:
            return []
        return self.table.column("candidates").take(pa.array([self.rows[k] for k in keys], pa.int64())).to_pylist()

    def save(self, keep: list[str], new_keys: list[str], new_records: pa.Array,
             candidates: dict[str, list[dict]] | None = None) -> None:
        """Keep the entries of ``keep`` (documents still valid and unchanged), add the new ones.

        ``candidates`` (by key) replaces the candidate warnings of kept or new entries.
        """
        candidates = candidates or {}
        kept = [k for k in keep if k in self.rows]
        old = self.candidates(kept)
        if not new_keys and len(kept) == len(self.rows) and not any(
                old[i] is None and k in candidates for i, k in enumerate(kept)):
            return  # nothing changed
        found = [candidates.get(k, old[i]) for i, k in enumerate(kept)] + [candidates.get(k) for k in new_keys]
        table = pa.table({"key": pa.array(kept + new_keys, pa.string()),
                          "record": pa.concat_arrays([self.records(kept), new_records.cast(DOCUMENT)]),
                          "candidates": pa.array(found, pa.list_(WARNING))},
                         schema=SCHEMA)
        table = table.take(pc.sort_indices(table.column("key")))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, SCHEMA) as writer:
            writer.write_table(table)
        try:
            old = list(self.path.parent.glob("validated-*.arrow")) if self.path.parent.is_dir() else []
            atomic_write(self.path, sink.getvalue().to_pybytes())
            for stale in old:  # caches of older rules or code
                if stale != self.path:
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still validates, just without a cache
