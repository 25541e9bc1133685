"""Tokens, sentences and BIO tags for the ``ner`` config (conll2003 style).

Each paragraph (a line of the text) is tokenised by spaCy's blank English pipeline
with its rule-based sentencizer; no model is downloaded. Mentions are projected onto
tokens: where mentions nest or overlap, the longest (earliest) one wins, as flat BIO
requires. A token overlapping a mention's first character is B-, later ones I-.

Only spaCy touches tokens one by one; the projection runs on numpy arrays of token
offsets for the whole corpus (``Doc.to_array``), and the result is built as Arrow
list arrays directly, so the cost grows with the text, not with Python objects.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def flat_spans(starts: np.ndarray, ends: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outermost, non-overlapping spans (longest first at each start, left to right), in one document."""
    order = np.lexsort((-(ends - starts), starts))
    keep, last_end = [], -1
    for i in order.tolist():  # one pass over a document's name spans; nested ones are rare
        if starts[i] >= last_end:
            keep.append(i)
            last_end = ends[i]
    keep = np.asarray(keep, dtype=np.int64)
    return starts[keep], ends[keep], labels[keep]


@dataclass
class Tokens:
    """The non-space tokens of some documents: text, character offsets, document and sentence numbers."""

    words: pa.Array
    start: np.ndarray
    end: np.ndarray
    doc: np.ndarray
    sentence: np.ndarray


def tokenise(texts: list[str]) -> Tokens:
    """spaCy's tokenizer and sentencizer over every paragraph (line) of every text."""
    from spacy.attrs import IDX, IS_SPACE, LENGTH, SENT_START

    nlp = _nlp()
    paragraphs, para_doc, para_base = [], [], []
    for d, text in enumerate(texts):
        base = 0
        for paragraph in text.split("\n"):
            paragraphs.append(paragraph)
            para_doc.append(d)
            para_base.append(base)
            base += len(paragraph) + 1
    tok_text, tok_start, tok_len, tok_doc, sent_start, space = [], [], [], [], [], []
    for paragraph, d, base, doc in zip(paragraphs, para_doc, para_base, nlp.pipe(paragraphs, batch_size=1000)):
        if not len(doc):
            continue
        a = doc.to_array([IDX, LENGTH, IS_SPACE, SENT_START])
        idx, length = a[:, 0].tolist(), a[:, 1].tolist()
        tok_text += [paragraph[i:i + n] for i, n in zip(idx, length)]
        tok_start.append(a[:, 0].astype(np.int64) + base)
        tok_len.append(a[:, 1].astype(np.int64))
        tok_doc.append(np.full(len(a), d, dtype=np.int64))
        space.append(a[:, 2].astype(bool))
        first = a[:, 3] == 1
        first[0] = True  # a paragraph always starts a sentence
        sent_start.append(first)
    if not tok_text:
        z = np.zeros(0, np.int64)
        return Tokens(pa.array([], pa.string()), z, z, z, z)
    start, length = np.concatenate(tok_start), np.concatenate(tok_len)
    doc, is_space, first = np.concatenate(tok_doc), np.concatenate(space), np.concatenate(sent_start)
    sentence = np.cumsum(first) - 1  # sentence number over these texts, before dropping spaces
    keep = ~is_space
    words = pa.array(tok_text, pa.string()).filter(pa.array(keep))
    return Tokens(words, start[keep], start[keep] + length[keep], doc[keep], sentence[keep])


def project(tokens: Tokens, spans: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """BIO tags of the tokens, and the sentences as Arrow list arrays.

    ``spans[d]`` holds the (start, end, tag-class) of document d's mentions to tag,
    where tag-class is the label's index k (B- tag id 2k+1, I- tag id 2k+2, O is 0).
    Returns (document index per sentence, sentence number within its document,
    tokens as list<string>, tags as list<int64>).
    """
    start, end, doc, sentence = tokens.start, tokens.end, tokens.doc, tokens.sentence
    if not len(start):
        empty = pa.array([], pa.list_(pa.string()))
        return np.zeros(0, np.int64), np.zeros(0, np.int64), empty, pa.array([], pa.list_(pa.int64()))
    tags = np.zeros(len(start), dtype=np.int64)
    for d in np.unique(doc).tolist():
        s_start, s_end, s_label = spans[d]
        if not len(s_start):
            continue
        lo, hi = np.searchsorted(doc, [d, d + 1])
        t_start, t_end = start[lo:hi], end[lo:hi]
        k = np.searchsorted(s_end, t_start, side="right")  # first span ending after the token starts
        inside = k < len(s_start)
        kk = np.where(inside, k, 0)
        inside &= s_start[kk] < t_end
        begin = s_start[kk] >= t_start
        tags[lo:hi] = np.where(inside, np.where(begin, 2 * s_label[kk] + 1, 2 * s_label[kk] + 2), 0)

    boundary = np.flatnonzero(np.diff(sentence)) + 1
    offsets = np.concatenate([[0], boundary, [len(sentence)]]).astype(np.int32)
    sent_doc = doc[offsets[:-1]]
    doc_first = np.flatnonzero(np.diff(sent_doc, prepend=-1))
    number = np.arange(len(sent_doc)) - np.repeat(doc_first, np.diff(np.append(doc_first, len(sent_doc))))
    words = pa.ListArray.from_arrays(pa.array(offsets), tokens.words)
    tag_lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(tags))
    return sent_doc, number, words, tag_lists


def ner_arrays(texts: list[str], spans: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """Sentences of every document as Arrow arrays (see ``project``)."""
    return project(tokenise(texts), spans)


def text_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _save(tokens: Tokens, path: Path) -> None:
    table = pa.table({"words": tokens.words, "start": tokens.start, "end": tokens.end, "doc": tokens.doc,
                      "sentence": tokens.sentence})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def load_tokens(path: str) -> Tokens:
    """Tokens saved by the second process, memory-mapped (read one chunk at a time)."""
    table = pa.ipc.open_file(pa.memory_map(path)).read_all()
    col = {name: table.column(name).combine_chunks() for name in table.column_names}
    return Tokens(col["words"], *(col[k].to_numpy(zero_copy_only=False) for k in ("start", "end", "doc", "sentence")))


def tokenise_folder(corpus: str, chunk: int, out: str, conn) -> None:
    """Worker: tokenise every corpus text, in chunks of documents, into Arrow files under ``out``.

    It runs in a second process while the first validates (two cores), and sends
    [(document ids, text digests, file)]; the builder reads a chunk, one at a time,
    only if its documents and digests are exactly those it validated.
    """
    try:
        paths = sorted(Path(corpus).glob("*.txt"))
        done = []
        for n, lo in enumerate(range(0, len(paths), chunk)):
            part = paths[lo:lo + chunk]
            texts = [p.read_text("utf-8").removesuffix("\n") for p in part]
            target = Path(out) / f"tokens-{n:05d}.arrow"
            _save(tokenise(texts), target)
            done.append(([p.stem for p in part], [text_digest(t) for t in texts], str(target)))
        conn.send((done, _peak_mib()))
    except Exception as e:  # noqa: BLE001 - the builder falls back to tokenising itself
        conn.send(e)
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


class Tokeniser:
    """Tokenises a corpus folder in a second process; ``result()`` waits for it (None if it failed)."""

    last_peak_mib: float | None = None  # the second process's own peak, for scripts/bench.py

    def __init__(self, corpus: Path, chunk: int) -> None:
        ctx = mp.get_context("spawn")
        self.folder = tempfile.mkdtemp(prefix="peacetalks-tokens-")
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=tokenise_folder, args=(str(corpus), chunk, self.folder, send), daemon=True)
        self._proc.start()
        send.close()

    def result(self):
        try:
            value = self._recv.recv()
        except (EOFError, OSError):
            value = None
        self._proc.join(timeout=5)
        if not isinstance(value, tuple):
            return None
        chunks, Tokeniser.last_peak_mib = value
        return chunks

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)
