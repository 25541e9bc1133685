"""Reading and writing corpus files: level-1 checks, canonical JSON, atomic writes."""

from __future__ import annotations

import errno
import gc
import hashlib
import os
import re
import shutil
import stat
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..defaults import GC_THRESHOLD, MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_TEXT_BYTES
from ..diagnostics.locate import byte_position
from ..diagnostics.problems import Problem, is_utf8, printable


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    """What says a file is unchanged, as git's index says it: size, modification and change times (ns), inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass(frozen=True, eq=False)
class Listing:
    """A folder's entries, so that a corpus's folders are sorted out a column at a time: every name in
    order as an Arrow column (``names``), in its printable form (``problems.printable``: the bytes of a
    name that are not UTF-8 as ``\\xNN``, which no Arrow string could hold otherwise), with whether each
    is a regular file (``regular``); and, for the names that are not UTF-8, their row and the name as
    ``os`` gives it (``undecodable``). A printable form has no ``.`` the name has not, so every suffix
    rule gives it the name's answer, and is never a safe id. Iterating gives (name as ``os`` gives it,
    is regular file) pairs, in order."""

    names: pa.Array
    regular: pa.Array
    undecodable: tuple[tuple[int, str], ...] = ()

    @classmethod
    def of(cls, entries) -> "Listing":
        """The listing of these (name, is regular file) pairs."""
        entries = sorted(entries)
        return cls(pa.array([printable(n) for n, _ in entries], pa.string()),
                   pa.array([r for _, r in entries], pa.bool_()),
                   tuple((i, n) for i, (n, _) in enumerate(entries) if not is_utf8(n)))

    def utf8(self) -> pa.Array:
        """Whether each name is UTF-8 (its printable form is the name), a column."""
        utf8 = np.ones(len(self.names), np.bool_)
        utf8[[i for i, _ in self.undecodable]] = False
        return pa.array(utf8)

    def name(self, row: int) -> str:
        """The name of entry ``row`` as ``os`` gives it (to look at the entry itself)."""
        for i, real in self.undecodable:
            if i == row:
                return real
        return self.names[row].as_py()

    def files(self, suffix: str) -> pa.Array:
        """Whether each entry is a regular file <stem><suffix>, its stem not empty (whatever its name's
        encoding), a column."""
        return pc.and_(self.regular, pc.and_(pc.ends_with(self.names, suffix),
                                             pc.greater(pc.utf8_length(self.names), len(suffix))))

    def id_files(self, suffix: str) -> pa.Array:
        """Whether each entry is a file named by an id: a regular <stem><suffix> file, its name UTF-8 and
        not hidden (the stem still has to be a safe id), a column."""
        return pc.and_(pc.invert(pc.starts_with(self.names, ".")), pc.and_(self.files(suffix), self.utf8()))

    def stems(self, chosen: pa.Array, suffix: str) -> list[str]:
        """The stems of the ``chosen`` entries' names (all ending in ``suffix``), in order ("a-b.json"
        sorts before "a.json")."""
        stems = pc.utf8_slice_codeunits(self.names.filter(chosen), 0, -len(suffix))
        return stems.take(pc.sort_indices(stems)).to_pylist()

    def __iter__(self):
        real = dict(self.undecodable)
        return iter([(real.get(i, name), regular)
                     for i, (name, regular) in enumerate(zip(self.names.to_pylist(), self.regular.to_pylist()))])

    def __eq__(self, other) -> bool:
        return isinstance(other, Listing) and self.names.equals(other.names) and \
            self.regular.equals(other.regular) and self.undecodable == other.undecodable


def listing(folder: str) -> Listing:
    """The entries of a folder (``Listing``), with whether each is a regular file (a symbolic link, even
    to a file, is not: inputs are regular files inside the project)."""
    with os.scandir(folder) as entries:
        return Listing.of((e.name, e.is_file(follow_symlinks=False)) for e in entries)


def odd_entry(path: Path | str) -> str:
    """What a folder entry that is not a regular file is, for a message."""
    if os.path.islink(path):
        return "a symbolic link; inputs are regular files inside the project"
    return "a folder, where only files belong" if os.path.isdir(path) else "not a regular file"


def _no_follow(path: str, flags: int) -> int:
    """``open``'s opener: never through a symbolic link, never blocking on a pipe."""
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))


def read_bytes(path: Path | str, shown: str, limit: int,
               stamps: dict | None = None) -> tuple[bytes | None, list[Problem]]:
    """A regular file's bytes, or the problem that prevents reading it: not a regular file (a
    symbolic link, a folder, a device: F008), larger than ``limit`` (F005, checked before reading),
    unreadable (F009). The one way every corpus input is read.

    ``stamps``: where to note what was read, ``str(path)`` -> (size, mtime, ctime, inode, sha256 of the
    bytes), for the cache's stat index (``reading/cache.py``)."""
    try:
        f = open(path, "rb", buffering=0, opener=_no_follow)
    except OSError as e:
        if e.errno == errno.ELOOP or os.path.islink(path):
            return None, [Problem(shown, 1, 1, "F008", "file is a symbolic link; inputs are regular files",
                                  "replace the link by the file itself, inside the project")]
        if e.errno == errno.EISDIR:
            return None, [Problem(shown, 1, 1, "F008", "a folder, where a file is expected",
                                  "corpus inputs are regular files; move it out of the corpus")]
        return None, [Problem(shown, 1, 1, "F009", f"cannot read file: {e.strerror}", None)]
    with f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            return None, [Problem(shown, 1, 1, "F008", f"{kind}, where a file is expected",
                                  "corpus inputs are regular files; move it out of the corpus")]
        if st.st_size > limit:
            return None, [Problem(shown, 1, 1, "F005", f"file is {st.st_size:,} bytes; the limit is {limit:,}",
                                  "split the content, or raise the limit in peacetalks/defaults.py if it is legitimate")]
        data = f.read(st.st_size + 1)
        if len(data) > st.st_size:  # it grew since: read on, never past the limit
            data += f.read(max(0, limit + 1 - len(data))) or b""
    if len(data) > limit:
        return None, [Problem(shown, 1, 1, "F005", f"file is over the limit of {limit:,} bytes", None)]
    if stamps is not None:
        stamps[str(path)] = (*stat_key(st), hashlib.sha256(data).hexdigest())
    return data, []


def read_text_file(path: Path | str, shown: str, limit: int = MAX_TEXT_BYTES,
                   data: bytes | None = None) -> tuple[str | None, list[Problem]]:
    """A UTF-8, BOM-free, LF-only file's text, or the level-1 problems that prevent it (``data``: bytes already read)."""
    if data is None:
        data, problems = read_bytes(path, shown, limit)
        if data is None:
            return None, problems
    problems = []
    if len(data) > limit:
        return None, [Problem(shown, 1, 1, "F005", f"file is {len(data):,} bytes; the limit is {limit:,}", None)]
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(shown, 1, 1, "F002", "file starts with a UTF-8 byte order mark",
                                "save the file as UTF-8 without BOM (`peacetalks fmt` does)"))
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = byte_position(data, e.start)
        return None, problems + [Problem(shown, line, col, "F001", f"file is not valid UTF-8 (byte 0x{data[e.start]:02x})",
                                         "re-save the file as UTF-8")]
    if "\r" in text:
        cr = data.index(b"\r")
        problems.append(Problem(shown, *byte_position(data, cr), "F003", "file has CR line endings; LF only",
                                "convert line endings to LF (`peacetalks fmt` does)"))
    return (None if problems else text), problems


def _plain(data: bytes, value: Any, shallow: Callable[[Any], bool] | None = None) -> bool:
    """True if a parsed JSON value certainly has no duplicate key and is at most ``MAX_JSON_DEPTH`` deep.

    ``shallow``: a check that accepts only values of bounded depth (a closed JSON Schema's fast
    validator); a value it accepts skips the depth walk, the costlier half of this check.

    Duplicate keys: every ':' of the file is a key's or one inside a string, and orjson writes
    strings back with the same colons, so the file has more colons than the re-written value
    exactly when a key was repeated (files with \\u escapes take the exact path). Depth: one
    walk over the containers, no recursion.
    """
    if b"\\u" in data or data.count(b":") != orjson.dumps(value).count(b":"):
        return False
    if shallow is not None and shallow(value):
        return True
    stack = [(value, 1)] if type(value) is dict or type(value) is list else []
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > MAX_JSON_DEPTH:
            return False
        for child in (item.values() if type(item) is dict else item):
            if type(child) is dict or type(child) is list:
                push((child, depth + 1))
    return True


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


def _structure_problem(text: str, shown: str) -> Problem | None:
    """The first repeated key or nesting beyond ``MAX_JSON_DEPTH`` of a JSON text that parses, at its place."""
    stack: list[set[str] | None] = []  # the keys seen in each open object (None for an array)
    last = None
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token in "{[":
            stack.append(set() if token == "{" else None)
            if len(stack) > MAX_JSON_DEPTH:
                line, col = byte_position(text.encode(), len(text[:m.start()].encode()))
                return Problem(shown, line, col, "F012", f"JSON nests more than {MAX_JSON_DEPTH} levels deep",
                               "corpus files are shallow records; remove the nested structure")
        elif token in "}]":
            stack.pop()
        elif token == ":" and last is not None and stack and stack[-1] is not None:
            key = orjson.loads(last.group())
            if key in stack[-1]:
                line, col = byte_position(text.encode(), len(text[:last.start()].encode()))
                return Problem(shown, line, col, "F011", f"key {key!r} appears twice in the same object",
                               "JSON keeps only the last value, so the first one is silently lost: keep one")
            stack[-1].add(key)
        last = m if token.startswith('"') else None
    return None


def quick_json(data: bytes, shallow: Callable[[Any], bool] | None = None) -> tuple[bool, Any]:
    """(True, value) if a JSON file's bytes pass every level-1 check at once, else (False, None).

    Size within the limit, no BOM, no CR, orjson's parse (which checks the UTF-8 itself), no
    repeated key and no deep nesting; ``read_json_file`` explains whatever fails."""
    if len(data) <= MAX_JSON_BYTES and not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            return False, None
        if _plain(data, value, shallow):
            return True, value
    return False, None


def read_json_file(path: Path | str, shown: str, data: bytes | None = None,
                   shallow: Callable[[Any], bool] | None = None) -> tuple[Any, list[Problem]]:
    """A JSON file's value after the level-1 checks, or None and the problems (``shallow``: see ``_plain``)."""
    if data is None:
        data, problems = read_bytes(path, shown, MAX_JSON_BYTES)
        if data is None:
            return None, problems
    ok, value = quick_json(data, shallow)
    if ok and value is None:  # callers read None as "not read": a file of JSON null is said to be wrong here
        return None, [Problem(shown, 1, 1, "S004", "the file holds JSON null; it must hold an object",
                              "write the file's object, as `peacetalks rules S004` shows")]
    if ok:  # the common case; any failure takes the detailed path below
        return value, []
    text, problems = read_text_file(path, shown, MAX_JSON_BYTES, data)
    if text is None:
        return None, problems
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        return None, [Problem(shown, e.lineno, e.colno, "F004", f"invalid JSON: {e.msg}",
                              "check for a missing comma or quote, or a trailing comma, just before this point")]
    found = structure_problem(text.encode("utf-8"), value, shown)
    if found is None and value is None:
        found = Problem(shown, 1, 1, "S004", "the file holds JSON null; it must hold an object", None)
    return (None, [found]) if found else (value, [])


def structure_problem(data: bytes, value: Any, shown: str) -> Problem | None:
    """A parsed JSON file's repeated key (F011) or excess nesting (F012), at its place; None if it has neither."""
    if _plain(data, value):
        return None
    return _structure_problem(data.decode("utf-8", "replace"), shown)


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while many small objects are parsed (orjson makes no cycles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_tuning = threading.Lock()
_tuned = 0  # how many ``gc_tuned`` blocks this process is in (only the outermost one acts)
_restore: tuple = ()  # what the outermost one gives back: the thresholds, and whether it froze


@contextmanager
def gc_tuned():
    """Run a command, a validation or a build with the collector tuned for it
    (``defaults.GC_THRESHOLD``), as mypy runs: young objects are collected less often, and what is
    alive on entry (the imported libraries, the caller's objects) is frozen, so that no collection
    walks it again. A block inside another one freezes what is alive by then (the modules a command
    imported since). When the outermost block ends, the thresholds and every frozen object are given
    back, unless the caller had frozen objects of its own: then nothing is frozen, and its freeze is
    left as it was. Workers forked inside a block start tuned (and share the frozen objects' pages,
    which no collection touches)."""
    global _tuned, _restore
    with _tuning:
        _tuned += 1
        if _tuned == 1:
            _restore = (gc.get_threshold(), gc.get_freeze_count() == 0)
            gc.set_threshold(*GC_THRESHOLD)
        if _restore[1]:
            gc.freeze()
    try:
        yield
    finally:
        with _tuning:
            _tuned -= 1
            if _tuned == 0:
                threshold, froze = _restore
                gc.set_threshold(*threshold)
                if froze:
                    gc.unfreeze()


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dump_json(value: Any) -> bytes:
    """Plain JSON: two-space indent, UTF-8, keys in the order given, final LF."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def dump_records(value: dict, list_keys: tuple[str, ...]) -> bytes:
    """Canonical JSON for hand-curated files: one record per line inside each list.

    Each record is written on one line so that a diff shows one changed annotation
    per changed line, as reviewers read it.
    """
    parts = []
    for key, item in value.items():
        k = orjson.dumps(key).decode()
        if key in list_keys and isinstance(item, list):
            if not item:
                parts.append(f"  {k}: []")
            else:
                rows = ",\n".join("    " + _inline(r) for r in item)
                parts.append(f"  {k}: [\n{rows}\n  ]")
        else:
            parts.append(f"  {k}: {orjson.dumps(item).decode()}")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8")


def _inline(value: Any) -> str:
    """JSON on one line with a space after ':' and ',' (as people write it)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{orjson.dumps(k).decode()}: {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return orjson.dumps(value).decode()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, content: bytes, durable: bool = True) -> None:
    """Write a file so that readers see the old or the new content, never half of it (``atomic_file``)."""
    with atomic_file(path, durable) as f:
        f.write(content)


@contextmanager
def atomic_file(path: Path, durable: bool = True):
    """A new binary file that replaces ``path`` when the block ends without an error, so that readers
    see the old or the new content, never half of it; what a block left half-written is removed. What
    is written in pieces (a cache segment, batch by batch) is never held whole in memory.

    The file keeps the mode of the file it replaces; a new file gets the usual mode under
    the umask (as ``open`` would give it), not ``mkstemp``'s private 0600. ``durable``: on disk
    before it replaces the old one (``fsync``); the validation cache, which a crash may lose but
    never trusts damaged, goes without (the fsync of the 50,000-document stat index took 0.2 s
    of a 2 s re-check, scripts/bench.py).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutputError(Exception):
    """An output folder that a command may not replace (a usage error: exit 2, nothing touched)."""


def is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and next(path.iterdir(), None) is None


def check_output(out: Path, own: Callable[[Path], bool], what: str) -> None:
    """Refuse an existing ``out`` that is neither an empty folder nor this command's own earlier output.

    A command replaces only what it recognisably made (``own``); anything else, a file, a
    symlink or a folder of someone's notes, is left alone and the command refuses. A path that is not
    UTF-8 is refused too: the Parquet and Arrow writers take UTF-8 paths only.
    """
    if not is_utf8(str(out)):
        raise OutputError(f"{printable(str(out))} is not a UTF-8 path (its bytes that are not are shown as \\xNN), "
                          "which the release's writers cannot open; give --out a folder whose path is UTF-8")
    if not os.path.lexists(out) or is_empty_dir(out):
        return
    if out.is_symlink() or not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder; give --out a new folder")
    if not own(out):
        raise OutputError(f"{out} exists and is not {what}, so it is left untouched; "
                          "give --out a new or empty folder")


def temp_dir_beside(out: Path) -> Path:
    """A new folder next to ``out`` (same file system, so the final move is atomic), with the
    umask's usual folder mode rather than ``mkdtemp``'s private 0700."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def put_in_place(tmp: Path, out: Path) -> None:
    """Move the finished folder ``tmp`` to ``out``, replacing what is there (checked by ``check_output``)."""
    if not os.path.lexists(out):
        os.replace(tmp, out)
        return
    if is_empty_dir(out):
        out.rmdir()
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    os.replace(out, old / "previous")
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
