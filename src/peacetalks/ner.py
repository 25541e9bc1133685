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

from functools import lru_cache

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


def ner_arrays(texts: list[str], spans: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """Sentences of every document as Arrow arrays.

    ``spans[d]`` holds the (start, end, tag-class) of document d's mentions to tag,
    where tag-class is the label's index k (B- tag id 2k+1, I- tag id 2k+2, O is 0).
    Returns (document index per sentence, sentence number within its document,
    tokens as list<string>, tags as list<int64>).
    """
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
        empty = pa.array([], pa.list_(pa.string()))
        return np.zeros(0, np.int64), np.zeros(0, np.int64), empty, pa.array([], pa.list_(pa.int64()))
    start, length = np.concatenate(tok_start), np.concatenate(tok_len)
    doc, is_space, first = np.concatenate(tok_doc), np.concatenate(space), np.concatenate(sent_start)
    sentence = np.cumsum(first) - 1  # sentence number over the corpus, before dropping spaces
    keep = ~is_space
    words = pa.array(tok_text, pa.string()).filter(pa.array(keep))
    start, end, doc, sentence = start[keep], start[keep] + length[keep], doc[keep], sentence[keep]

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
    tokens = pa.ListArray.from_arrays(pa.array(offsets), words)
    tag_lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(tags))
    return sent_doc, number, tokens, tag_lists
