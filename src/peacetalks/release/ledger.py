"""The release ledger: what every released version contained, recorded in the repository.

One file per released version, ``annotations/releases/<version>.json`` (schema
``schema/ledger.json``), written by ``peacetalks release`` and committed with it:

- ``sources``: the digest of everything the release's data is made from (corpus texts and
  metadata, document annotations, the registries, layer provenance, the label
  inventories' names in order). Equal sources mean the same dataset.
- ``configs``: rows and a content digest of each Parquet config, computed from the rows
  themselves (not the file's bytes, which also depend on the Parquet writer's version),
  so that a change of code that alters released data is caught too.
- ``commit``: the git commit the release was cut from (its corpus files are exactly the
  recorded sources), so that any clone can rebuild or diff it (``diff 0.1.0 .``).
- ``files``: the release's manifest as built then (sha256 and size of every file).

A version's content never changes silently: a build stamped with a released version must
have its recorded sources; any other content builds as a development version
(``X.Y.(Z+1)-dev.<sources>``) until ``peacetalks release`` records a new version.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from ..defaults import DIGEST_ROWS
from ..model.labels import Labels
from ..reading.files import atomic_write, dump_json
from ..reading.project import Project

SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


class LedgerError(Exception):
    """The ledger cannot be read or would be contradicted; the message says which file and why."""


def parse_version(v: str) -> tuple[int, int, int]:
    m = SEMVER.fullmatch(v or "")
    if not m:
        raise LedgerError(f"{v!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _source_files(project: Project) -> list[Path]:
    files = []
    for folder, pattern in ((project.corpus, "*.txt"), (project.corpus, "*.json"), (project.documents, "*.json")):
        if folder.is_dir():
            files += sorted(p for p in folder.glob(pattern) if p.is_file())
    files += [p for p in (project.entities, project.xdoc_events, project.layers) if p.is_file()]
    return files


def sources_digest(project: Project) -> str:
    """The digest of everything a release's data is made from (see the module's docstring)."""
    h = hashlib.sha256()
    for path in _source_files(project):
        h.update(os.fsencode(project.rel(path)) + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    labels = Labels(project.schema / "labels.json")
    names = {key: labels[key].names for key in labels.inventories}
    h.update(b"labels\0" + orjson.dumps(names, option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()


def table_digest(path: Path) -> str:
    """The digest of a Parquet file's columns and rows as values, batch by batch."""
    parquet = pq.ParquetFile(path)
    h = hashlib.sha256(orjson.dumps(parquet.schema_arrow.names))
    for batch in parquet.iter_batches(batch_size=DIGEST_ROWS):
        for row in batch.to_pylist():
            h.update(orjson.dumps(row) + b"\n")
    return h.hexdigest()


def config_digests(release: Path, manifest: dict) -> dict[str, dict]:
    return {name: {"rows": entry["rows"], "content": table_digest(release / entry["path"])}
            for name, entry in sorted(manifest["configs"].items())}


@dataclass(frozen=True)
class Entry:
    """One released version as the ledger records it."""

    version: str
    date: str
    commit: str | None
    sources: str
    counts: dict
    configs: dict
    files: dict
    path: Path

    @property
    def key(self) -> tuple[int, int, int]:
        return parse_version(self.version)


def entries(project: Project) -> dict[str, Entry]:
    """Every recorded version, by version string (oldest first)."""
    folder = project.releases
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.glob("*.json")):
        try:
            raw = orjson.loads(path.read_bytes())
            entry = Entry(raw["version"], raw["date"], raw.get("commit"), raw["sources"], raw["counts"],
                          raw["configs"], raw["files"], path)
            entry.key  # noqa: B018 - a version that does not parse is damage
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, LedgerError) as e:
            raise LedgerError(f"{project.rel(path)}: not a valid ledger entry ({type(e).__name__}: {e})") from None
        if path.name != f"{entry.version}.json":
            raise LedgerError(f"{project.rel(path)}: records version {entry.version}; the file must be "
                              f"named {entry.version}.json")
        found[entry.version] = entry
    return dict(sorted(found.items(), key=lambda kv: kv[1].key))


def latest(project: Project, below: str | None = None) -> Entry | None:
    """The newest recorded version (below ``below``, if given)."""
    limit = parse_version(below) if below else None
    candidates = [e for e in entries(project).values() if limit is None or e.key < limit]
    return candidates[-1] if candidates else None


def build_version(project: Project, version: str) -> tuple[str, Entry | None]:
    """The version a build of the current content is stamped with, and the ledger entry it is.

    ``version`` (the package's) if it is not released yet or the content is its recorded
    content; otherwise a development version after it, named by the content's digest.
    """
    recorded = entries(project).get(version)
    if recorded is None:
        return version, None
    digest = sources_digest(project)
    if digest == recorded.sources:
        return version, recorded
    major, minor, patch = parse_version(version)
    return f"{major}.{minor}.{patch + 1}-dev.{digest[:12]}", None


def check_version(project: Project, version: str) -> None:
    """Refuse to stamp a released ``version`` on content other than what it recorded."""
    recorded = entries(project).get(version)
    if recorded is not None and sources_digest(project) != recorded.sources:
        raise LedgerError(f"{version} is already released with other content ({project.rel(recorded.path)}); "
                          "a version's content never changes: release the change as a new version")


def record(project: Project, release: Path, date: str, commit: str | None) -> Path:
    """Write the ledger entry of the release built at ``release``; refuses to replace one."""
    manifest = orjson.loads((release / "manifest.json").read_bytes())
    version = manifest["version"]
    path = project.releases / f"{version}.json"
    if path.exists():
        raise LedgerError(f"{project.rel(path)} already records {version}; released versions are never re-recorded")
    entry = {"version": version, "date": date, "commit": commit, "schema_version": manifest["schema_version"],
             "sources": sources_digest(project), "counts": manifest["counts"],
             "configs": config_digests(release, manifest), "files": manifest["files"]}
    atomic_write(path, dump_json(entry))
    return path


def compare(entry: Entry, release: Path) -> list[str]:
    """How a build of the recorded sources differs from the recorded content (empty: it does not)."""
    manifest = orjson.loads((release / "manifest.json").read_bytes())
    now = config_digests(release, manifest)
    return [f"{name}: {entry.configs.get(name)} recorded, {now.get(name)} built"
            for name in sorted(set(now) | set(entry.configs)) if now.get(name) != entry.configs.get(name)]
