"""Stage 1, seeds -> corpus: the deterministic normaliser behind ``peacetalks ingest``.

A seed is a raw article as received, kept byte for byte in seeds/ with its checksum
in seeds/SHA256SUMS. ``normalise`` turns it into one corpus record:

1. Decode as UTF-8 (a leading BOM is dropped); CRLF and CR become LF; NFC.
2. Control and zero-width characters are removed (tab and LF excepted); every run of
   horizontal white space (tabs, no-break spaces, ...) becomes one space.
3. Lines are stripped, and blank lines dropped: the text has one paragraph per line.
4. A date header (``date 2025-04-17`` at the very start) becomes ``date`` and leaves
   the text.
5. The first line is the headline when more lines follow and it does not end a sentence
   (``.``, ``!``, ``?``, ``…``, possibly before a closing quote) and is at most 200
   characters long. The headline is text like any other paragraph: it stays the first
   line of the text (offset 0), so that it is annotated in the same offset space as the
   body, and it is also recorded as ``title`` (metadata). Otherwise ``title`` is null.
6. A last line of the form ``<Name> for <Outlet>`` (at most 80 characters) is a byline:
   it becomes ``author`` and ``outlet`` and leaves the text. Bylines and date lines are
   metadata, not text, and are never annotated.

7. Metadata the source states but the seed file does not carry (its URL, or an outlet
   named on the web page) may be given when the seed is added (``peacetalks ingest
   --add FILE --url ...``); it is kept beside the seed in ``seeds/<id>.meta.json`` and
   fills only fields the seed leaves empty (a conflict with the seed is an error).

Nothing else is inferred: no date, outlet, author or URL that nobody stated. The text is written to corpus/<id>.txt followed by one LF, the metadata to
corpus/<id>.json. The document id is the seed's file name without ``.txt``.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..defaults import MAX_JSON_BYTES, MAX_SEED_BYTES, MAX_TEXT_BYTES
from ..diagnostics.locate import byte_position
from ..diagnostics.problems import Problem, quoted
from ..model.layers import LAYERS
from ..model.schemas import Schemas, calendar_date
from .files import (
    atomic_write,
    dump_json,
    dump_records,
    listing,
    read_bytes,
    read_json_file,
)
from .project import Project

#: Bumped whenever the normaliser's output may change; recorded in every corpus record.
#: 2.0: the headline stays in the text as its first paragraph (1.0 moved it to ``title`` only).
NORMALISER_VERSION = "2.0"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_HSPACE = re.compile(r"[^\S\n]+")
_DATE_HEADER = re.compile(r"^date (\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))(?:\s+|$)")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_NAME = r"[A-Z][\w.'’-]*"
_BYLINE = re.compile(rf"^(?P<author>{_NAME}(?: {_NAME}){{0,4}}) for (?P<outlet>{_NAME}(?: {_NAME}){{0,5}})$")


class IngestError(ValueError):
    """A seed that cannot be normalised; carries the problem to report."""

    def __init__(self, problem: Problem):
        super().__init__(problem.render())
        self.problem = problem


@dataclass(frozen=True)
class Record:
    """One corpus document: its text and the metadata beside it."""

    id: str
    text: str
    meta: dict

    def files(self) -> dict[str, bytes]:
        """The two corpus files, by name, exactly as written."""
        return {f"{self.id}.txt": (self.text + "\n").encode("utf-8"), f"{self.id}.json": dump_json(self.meta)}


META_FIELDS = ("title", "date", "outlet", "author", "url")
_SUM_LINE = re.compile(r"([0-9a-f]{64}) [ *]([^/\\\x00-\x1f]+)")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*")  # (fullmatch)
_DATE = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])")  # (fullmatch)


def check_stated(stated: dict, shown: str) -> list[Problem]:
    """The metadata stated beside a seed: known fields, non-empty strings, a date and a URL of the right form."""
    problems = []
    if not isinstance(stated, dict):
        return [Problem(shown, 1, 1, "S001", "seed metadata must be a JSON object", None)]
    for key, value in stated.items():
        if key not in META_FIELDS:
            problems.append(Problem(shown, 1, 1, "S003", f"unknown metadata field {key!r}",
                                    f"allowed: {', '.join(META_FIELDS)}"))
        elif not isinstance(value, str) or not value.strip():
            problems.append(Problem(shown, 1, 1, "S004", f"{key!r} must be a non-empty string", None))
        elif key == "date" and not (_DATE.fullmatch(value) and calendar_date(value)):
            problems.append(Problem(shown, 1, 1, "S006", f"date {value!r} is not YYYY-MM-DD", None))
        elif key == "url" and not _URL.fullmatch(value):
            problems.append(Problem(shown, 1, 1, "S006", f"url {value!r} is not an http(s) URL", None))
    return problems


#: schema/common.json's ``Id`` in words, for the hints
_ID_RULE = "letters, digits, '.', '_' and '-' only, starting with a letter or digit, no '..', at most 128 characters"
#: what to do about an unsafe id, by where it came from: a seed found in seeds/, the name of the file
#: given to ``ingest --add``, or ``--id``
_ID_HINTS = {"seeds": f"rename the seed: {_ID_RULE} (before .txt)",
             "add": f"rename the seed, or give its id with --id: {_ID_RULE} (before .txt)",
             "id": f"choose another id with --id: {_ID_RULE}"}


def seed_id(schemas: Schemas, file_name: str, shown: str, via: str = "seeds") -> str:
    """The document id of a seed: its file name without ``.txt``, if that is a safe id (schema/common.json's
    ``Id``, the one rule of every id); else F007 at ``shown``, its hint for where the id came from (``via``:
    a key of ``_ID_HINTS``; with "id" the problem names the option, not the seed's name)."""
    doc_id = file_name.removesuffix(".txt")
    if schemas.is_valid_id(doc_id):
        return doc_id
    message = f"--id {quoted(doc_id)} is not a safe document id" if via == "id" else \
        f"seed name {quoted(file_name)} does not give a safe document id"
    raise IngestError(Problem(shown, 1, 1, "F007", message, _ID_HINTS[via]))


def normalise(raw: bytes, file_name: str, *, shown_path: str | None = None, stated: dict | None = None,
              stated_path: str | None = None) -> Record:
    """Normalise one seed (its bytes and file name) into a corpus record; ``stated``: metadata given beside it."""
    shown = shown_path or file_name
    doc_id = file_name.removesuffix(".txt")  # (a safe id: ``seed_id``, which its callers ask first)
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise IngestError(Problem(shown, *byte_position(data, e.start), "F001", f"seed is not valid UTF-8 (byte 0x{data[e.start]:02x})",
                                  "convert the article to UTF-8 before ingesting it")) from None
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _HSPACE.sub(" ", _CONTROL.sub("", text))
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]

    date = None
    if lines and (m := _DATE_HEADER.match(lines[0])):
        date = m.group(1)
        if not calendar_date(date):
            raise IngestError(Problem(shown, 1, 1, "S006", f"the date line gives {date}, which is not a calendar date",
                                      "correct the date as the source states it (YYYY-MM-DD)"))
        lines[0] = lines[0][m.end():]
        if not lines[0]:
            lines.pop(0)

    title = None
    if len(lines) >= 2 and len(lines[0]) <= 200 and not _SENTENCE_END.search(lines[0]):
        title = lines[0]  # metadata, and still the text's first paragraph

    author = outlet = None
    if len(lines) >= 2 + (title is not None) and len(lines[-1]) <= 80 and (m := _BYLINE.match(lines[-1])):
        author, outlet = m.group("author"), m.group("outlet")
        lines.pop()

    if not lines:
        raise IngestError(Problem(shown, 1, 1, "F010", "seed has no text after normalisation",
                                  "an article needs body text; check that the right file was given"))
    found = {"title": title, "date": date, "outlet": outlet, "author": author, "url": None}
    for key, value in (stated or {}).items():
        if found.get(key) is not None and found[key] != value:
            raise IngestError(Problem(stated_path or shown, 1, 1, "D003",
                                      f"{key} {value!r} contradicts the seed, which states {found[key]!r}",
                                      f"remove {key!r} from the metadata file: the seed's own statement wins"))
        found[key] = value
    meta = {
        "id": doc_id,
        "title": found["title"],
        "date": found["date"],
        "outlet": found["outlet"],
        "author": found["author"],
        "url": found["url"],
        "language": "en",
        "source": {"file": file_name, "sha256": hashlib.sha256(raw).hexdigest(), "normaliser": NORMALISER_VERSION},
    }
    return Record(doc_id, "\n".join(lines), meta)


def seed_files(project: Project) -> list[Path]:
    """Every ``seeds/*.txt`` entry (odd ones, a link or a folder, are reported when read)."""
    return sorted(project.seeds / name for name, _ in listing(str(project.seeds)) if name.endswith(".txt")) \
        if project.seeds.is_dir() else []


def read_seed(project: Project, seed: Path) -> tuple[bytes | None, list[Problem]]:
    """A seed's bytes: a regular file within the seed size limit."""
    return read_bytes(seed, project.rel(seed), MAX_SEED_BYTES)


def read_checksums(project: Project) -> dict[str, str]:
    """seeds/SHA256SUMS as {file name: sha256}."""
    path = project.seeds / "SHA256SUMS"
    if not os.path.lexists(path):
        return {}
    raw, _ = read_bytes(path, "seeds/SHA256SUMS", MAX_JSON_BYTES)
    sums = {}
    for line in (raw or b"").decode("utf-8", "replace").splitlines():  # sha256sum's format; other lines are
        m = _SUM_LINE.fullmatch(line.rstrip())  # not checksums, and a seed without its line is reported (D002)
        if m:
            sums[m.group(2)] = m.group(1)
    return sums


def check_seeds(project: Project) -> list[Problem]:
    """Seeds against seeds/SHA256SUMS (D002)."""
    sums = read_checksums(project)
    sums_path = project.rel(project.seeds / "SHA256SUMS")
    problems = []
    for seed in seed_files(project):
        raw, found = read_seed(project, seed)
        if raw is None:
            problems += found
            continue
        digest = hashlib.sha256(raw).hexdigest()
        if seed.name not in sums:
            problems.append(Problem(project.rel(seed), 1, 1, "D002", "seed is not listed in seeds/SHA256SUMS",
                                    f"add the line '{digest}  {seed.name}' to {sums_path}"))
        elif sums[seed.name] != digest:
            problems.append(Problem(project.rel(seed), 1, 1, "D002", "seed differs from its checksum in seeds/SHA256SUMS",
                                    "seeds are kept byte for byte; restore the seed, record corrections as annotations or quality flags"))
    for name in sorted(set(sums) - {s.name for s in seed_files(project)}):
        problems.append(Problem(sums_path, 1, 1, "D002", f"seed {name} is listed but missing", "restore the seed or remove its line"))
    return problems


def regenerate(project: Project) -> tuple[dict[str, bytes], list[Problem]]:
    """All corpus files that seeds/ produce, by file name, and the seeds that failed."""
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    schemas = Schemas(project.schema)
    for seed in seed_files(project):
        try:
            seed_id(schemas, seed.name, project.rel(seed))
        except IngestError as e:
            problems.append(e.problem)
            continue
        side = seed.with_name(seed.name[:-4] + ".meta.json")
        stated = None
        if os.path.lexists(side):
            stated, found = read_json_file(side, project.rel(side))
            found = found or check_stated(stated, project.rel(side))
            if found:
                problems += found
                continue
        raw, found = read_seed(project, seed)
        if raw is None:
            problems += found  # (check_seeds reports it too; sort_problems keeps one)
            continue
        try:
            files.update(normalise(raw, seed.name, shown_path=project.rel(seed), stated=stated,
                                   stated_path=project.rel(side)).files())
        except IngestError as e:
            problems.append(e.problem)
    return files, problems


def check_drift(project: Project) -> list[Problem]:
    """corpus/ against what seeds/ regenerate (D001); a no-op without seeds/."""
    if not project.seeds.is_dir():
        return []
    expected, problems = regenerate(project)
    present = {p.name for p in project.corpus.glob("*") if p.is_file()} if project.corpus.is_dir() else set()
    for name, content in sorted(expected.items()):
        path = project.corpus / name
        if name not in present:
            problems.append(Problem(project.rel(path), 1, 1, "D001", "corpus file is missing; seeds/ produce it",
                                    "run `peacetalks ingest`"))
        elif (actual := read_bytes(path, project.rel(path), MAX_TEXT_BYTES)[0]) is None:
            continue  # not a regular file or too large: the corpus reader reports it
        elif actual != content:
            problems.append(Problem(project.rel(path), *_first_difference(actual, content), "D001",
                                    "corpus file differs from what its seed produces",
                                    "corpus/ is generated: run `peacetalks ingest` instead of editing it"))
    return problems


def _first_difference(actual: bytes, expected: bytes) -> tuple[int, int]:
    n = next((i for i, (a, b) in enumerate(zip(actual, expected)) if a != b), min(len(actual), len(expected)))
    return byte_position(actual, n)


def ingest(project: Project) -> tuple[list[str], list[Problem]]:
    """Regenerate corpus/ from seeds/; returns the files written (changed only)."""
    files, problems = regenerate(project)
    if problems:
        return [], problems
    project.corpus.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in sorted(files.items()):
        path = project.corpus / name
        if not path.exists() or path.read_bytes() != content:
            atomic_write(path, content)
            written.append(project.rel(path))
    return written, []


def add_seed(project: Project, source: Path, doc_id: str | None = None, stated: dict | None = None) -> list[str]:
    """Add a raw article to seeds/ (byte for byte, checksum recorded, stated metadata beside it),
    regenerate corpus/, and start its annotation file. Nothing is written if anything is wrong."""
    try:
        size = os.stat(source).st_size
        if size > MAX_SEED_BYTES:
            raise IngestError(Problem(str(source), 1, 1, "F005", f"the article is {size:,} bytes; a seed may have "
                                      f"{MAX_SEED_BYTES:,}", "is it one news article, as text? split or clean it"))
        raw = Path(source).read_bytes()
    except OSError as e:
        raise IngestError(Problem(str(source), 1, 1, "F009", f"cannot read the article: {e.strerror}", None)) from None
    given = doc_id is not None
    doc_id = doc_id if given else Path(source).name.removesuffix(".txt")
    name = f"{doc_id}.txt"
    seed = project.seeds / name
    seed_id(Schemas(project.schema), name, str(source), "id" if given else "add")  # (before anything is looked at or written)
    taken = {p.name.lower(): p.name for p in seed_files(project)}
    if name.lower() in taken and taken[name.lower()] != name:
        raise IngestError(Problem(project.rel(seed), 1, 1, "R001", f"seed {taken[name.lower()]} differs from {name} "
                                  "only by case", "choose another id with --id: ids name files, and case-insensitive "
                                  "file systems see one name"))
    if seed.exists():
        raise IngestError(Problem(project.rel(seed), 1, 1, "R001", f"seed {name} already exists",
                                  "choose another id with --id; seeds are never replaced"))
    stated = {k: v for k, v in (stated or {}).items() if v is not None}
    side = project.seeds / f"{doc_id}.meta.json"
    found = check_stated(stated, project.rel(side))
    if found:
        raise IngestError(found[0])
    record = normalise(raw, name, shown_path=str(source), stated=stated, stated_path=project.rel(side))
    sums = read_checksums(project)
    sums[name] = hashlib.sha256(raw).hexdigest()
    written = []
    project.seeds.mkdir(parents=True, exist_ok=True)
    atomic_write(seed, raw)
    written.append(project.rel(seed))
    if stated:
        atomic_write(side, dump_json(stated))
        written.append(project.rel(side))
    atomic_write(project.seeds / "SHA256SUMS", "".join(f"{d}  {n}\n" for n, d in sorted(sums.items())).encode())
    written.append(project.rel(project.seeds / "SHA256SUMS"))
    for file_name, content in record.files().items():
        atomic_write(project.corpus / file_name, content)
        written.append(project.rel(project.corpus / file_name))
    skeleton = project.documents / f"{doc_id}.json"
    if not skeleton.exists():
        atomic_write(skeleton, dump_records({"document": doc_id, **{layer: [] for layer in LAYERS}}, LAYERS))
        written.append(project.rel(skeleton))
    return written
