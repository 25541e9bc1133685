"""The build's second process: on two cores, part of the build runs beside it.

While the first process validates the corpus, the helper

1. reads its share of annotations/documents/ (the last files by name, see
   ``annotations.helper_share``) through levels 1-2 and hands the records over as an
   Arrow file; a file with any problem is left for the first process to read and explain;
2. tokenises every corpus text for the ``ner`` config (``ner.tokenise``), in chunks of
   documents, and keeps the tokens;
3. once the first process has validated the corpus and sent what it validated (document
   ids, text digests, the flat mention spans), projects the spans onto its tokens and
   hands the ``ner`` rows over as an Arrow file, while the first writes the other configs.

Nothing it returns is trusted blindly: it makes the ``ner`` rows only if the document ids
and text digests it tokenised are exactly those validated, and anything it did not
deliver (it failed, or a file changed) is done in the first process.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa


def _work(corpus: str, documents: str | None, schema: str, chunk: int, out: str, conn, requests) -> None:
    """The helper's whole job; results go through ``conn`` as they are ready, the request comes on ``requests``."""

    def send(message: tuple) -> None:
        pickle.dump(message, conn)
        conn.flush()

    try:
        if documents is not None:
            from ..model.schemas import Schemas
            from ..reading.annotations import helper_share, read_valid
            from ..reading.files import gc_paused, listing

            names = [name for name, _ in listing(documents) if not name.startswith(".")]
            with gc_paused():  # parsed JSON makes no cycles
                chunks = read_valid(Schemas(Path(schema)), documents, names[helper_share(names):])
            target = f"{out}/annotations.arrow"
            if chunks:
                with pa.OSFile(target, "wb") as sink, pa.ipc.new_file(sink, pa.schema([("record", chunks[0].type)])) as w:
                    for c in chunks:
                        w.write_batch(pa.record_batch([c], names=["record"]))
            send(("annotations", target if chunks else None))  # a short message: the pipe never blocks it
        from .ner import Tokens, ner_rows, text_digest, tokenise
        from .parquet import conform, write_parquet

        paths = sorted(Path(corpus).glob("*.txt"))
        chunks = []  # (document ids, text digests, tokens), kept here until the spans come
        for lo in range(0, len(paths), chunk):
            part = paths[lo:lo + chunk]
            texts = [p.read_text("utf-8").removesuffix("\n") for p in part]
            t = tokenise(texts)
            small = (t.start.astype(np.int32), t.end.astype(np.int32), t.doc.astype(np.int32), t.sentence.astype(np.int32))
            chunks.append(([p.stem for p in part], [text_digest(x) for x in texts], Tokens(t.words, *small)))
        # the first process sends what it validated: document ids, text digests per chunk, the flat spans
        try:  # the request itself is a file (it is large); only its name comes through the pipe
            with open(requests.readline().decode().strip(), "rb") as f:
                ids, digests, spans, ner_schema, parquet = pickle.load(f)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):
            return
        if [c[0] for c in chunks] != [ids[lo:lo + chunk] for lo in range(0, len(ids), chunk)] or \
                [c[1] for c in chunks] != digests:
            send(("ner", None, _peak_mib()))  # not the texts it validated: it tokenises them itself
            return
        pieces = [ner_rows(chunk_ids, t, spans.slice(lo, lo + chunk))
                  for lo, (chunk_ids, _, t) in zip(range(0, len(ids), chunk), chunks)]
        table = conform(pa.concat_tables(pieces), ner_schema)
        target = f"{out}/ner.arrow"  # for the first process's counts and card (memory-mapped there)
        with pa.OSFile(target, "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        write_parquet(table, parquet)  # into the release's temporary folder
        send(("ner", target, _peak_mib()))
    except Exception as e:  # noqa: BLE001 - the first process does whatever is missing itself
        send(("failed", repr(e)))
    finally:
        conn.close()


def _peak_mib() -> float | None:
    """This process's own peak resident memory (VmHWM, which starts anew at exec), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Helper:
    """The second process. ``annotations()`` and ``tokens()`` wait for its results (None if it failed)."""

    last_peak_mib: float | None = None  # the second process's own peak, for scripts/bench.py

    def __init__(self, corpus: Path, documents: Path | None, schema: Path, chunk: int) -> None:
        # a fresh interpreter running this module only: it imports what it needs and nothing of the
        # caller's (multiprocessing's spawn would re-run the calling script, e.g. the CLI's imports)
        self.folder = tempfile.mkdtemp(prefix="peacetalks-helper-")
        self._failed = False
        self._annotations_pending = documents is not None
        self.wrote_ner = False  # whether it wrote the ner config's Parquet file (see ``request_ner``)
        job = {"corpus": str(corpus), "documents": str(documents) if documents is not None else None,
               "schema": str(schema), "chunk": chunk, "out": self.folder}
        read, write = os.pipe()
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # where this peacetalks is imported from
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        try:
            self._proc = subprocess.Popen([sys.executable, "-m", "peacetalks.release.helper", json.dumps(job), str(write)],
                                          pass_fds=(write,), env=env, stdin=subprocess.PIPE)
        finally:
            os.close(write)
        self._recv = os.fdopen(read, "rb")

    def _next(self, kind: str):
        if self._failed:
            return None
        try:
            message = pickle.load(self._recv)
        except (EOFError, OSError, pickle.UnpicklingError):
            message = ("failed", "no answer")
        if message[0] != kind:
            self._failed = True
            return None
        return message[1:]

    def annotations(self) -> tuple[list[str], list[pa.Array]] | None:
        """The document ids the helper read without any problem, and their records (memory-mapped)."""
        if not self._annotations_pending:
            return None
        self._annotations_pending = False
        got = self._next("annotations")
        if got is None:
            return None
        (path,) = got
        if path is None:
            return [], []
        records = pa.ipc.open_file(pa.memory_map(path)).read_all().column("record")
        return records.combine_chunks().field("document").to_pylist(), records.chunks  # (each file's own id)

    def request_ner(self, ids: list[str], digests: list[list[str]], spans, schema: pa.Schema, parquet: Path) -> None:
        """Ask for the ``ner`` rows: the document ids and text digests validated here, the flat spans, the
        config's Arrow schema, and where its Parquet file goes."""
        if self._annotations_pending:  # not asked for (e.g. a cached run): skip that answer
            self.annotations()
        request = f"{self.folder}/request.pickle"
        try:  # a file, and its name through the pipe: writing never waits for the helper to read
            with open(request, "wb") as f:
                pickle.dump((ids, digests, spans, schema, str(parquet)), f)
            self._proc.stdin.write(request.encode() + b"\n")
            self._proc.stdin.close()
        except OSError:  # it is gone: ``ner()`` answers None
            self._failed = True

    def ner(self) -> pa.Table | None:
        """The rows that ``request_ner`` asked for (memory-mapped), or None if the helper could not make them."""
        got = self._next("ner")
        if got is None:
            return None
        path, Helper.last_peak_mib = got
        if path is None:
            return None
        self.wrote_ner = True  # its Parquet file is complete: it wrote it before answering
        # not joined here: the files are complete once sent, and a Python process takes a while to exit
        return pa.ipc.open_file(pa.memory_map(path)).read_all()

    def stop(self) -> None:
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
        if self._proc.poll() is None:
            self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._recv.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class _WithoutPandas:
    """An import hook that says pandas is not installed.

    Nothing in this process uses pandas, but pyarrow imports it on the first ``pa.array``
    call to see whether the argument is a pandas object (0.18 s of this process's time);
    with pandas "missing", pyarrow skips its pandas integration.
    """

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not used in peacetalks.release.helper")
        return None


if __name__ == "__main__":  # python -m peacetalks.release.helper JOB FD (started by Helper)
    sys.meta_path.insert(0, _WithoutPandas)
    _job = json.loads(sys.argv[1])
    with os.fdopen(int(sys.argv[2]), "wb") as _conn:
        _work(_job["corpus"], _job["documents"], _job["schema"], _job["chunk"], _job["out"], _conn, sys.stdin.buffer)
