"""Tokens, sentences and BIO tags for the ``ner`` config (conll2003 style).

Each paragraph (a line of the text) is tokenised by spaCy's blank English tokenizer
and split into sentences by the rule of spaCy's sentencizer (applied to token arrays,
see ``sentence_starts``); no model is downloaded. Mentions are projected onto
tokens: where mentions nest or overlap, the longest (earliest) one wins, as flat BIO
requires. A token overlapping a mention's first character is B-, later ones I-.

Only spaCy's tokenizer touches tokens one by one; sentences and the projection run on numpy arrays of token
offsets for the whole corpus (``Doc.to_array``), and the result is built as Arrow
list arrays directly, so the cost grows with the text, not with Python objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def vocab():
    """The vocabulary of the tokenizer the ``ner`` config is made with (for Docs built on its tokens)."""
    return _nlp().vocab


def warm() -> None:
    """Build the tokenizer now (in the process pool's fork server, once for every worker)."""
    _nlp()


@dataclass
class Spans:
    """Mention spans to tag, of many documents: document index, start, end, label index; sorted by (doc, start)."""

    doc: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray

    def slice(self, lo: int, hi: int) -> "Spans":
        """The spans of documents lo..hi-1, renumbered from 0."""
        a, b = np.searchsorted(self.doc, [lo, hi])
        return Spans(self.doc[a:b] - lo, self.start[a:b], self.end[a:b], self.label[a:b])


def flat_spans(doc: np.ndarray, starts: np.ndarray, ends: np.ndarray, labels: np.ndarray) -> Spans:
    """The outermost, non-overlapping spans of each document (longest first at each start, left to right).

    Most documents have no span overlapping an earlier one and keep all; the greedy
    pass (a later span is kept when it starts at or after the end of the last kept
    one) runs only over the documents that do.
    """
    if len(doc) > 1:  # the annotation files' own order (``peacetalks fmt``) usually is this one already
        d_doc, d_start, d_length = np.diff(doc), np.diff(starts), np.diff(starts - ends)
        if not np.all((d_doc > 0) | ((d_doc == 0) & ((d_start > 0) | ((d_start == 0) & (d_length >= 0))))):
            order = np.lexsort((-(ends - starts), starts, doc))
            doc, starts, ends, labels = doc[order], starts[order], ends[order], labels[order]
    keep = np.ones(len(doc), dtype=bool)
    if len(doc):
        first = np.concatenate([[True], doc[1:] != doc[:-1]])
        # the furthest end among the spans before, within the same document
        group = np.cumsum(first) - 1
        offset = group * (int(ends.max()) + 1)
        reach = np.maximum.accumulate(ends + offset) - offset
        clash = ~first & (starts < np.concatenate([[0], reach[:-1]]))
        for d in np.unique(doc[clash]).tolist():
            lo, hi = np.searchsorted(doc, [d, d + 1])
            last_end = -1
            for i in range(lo, hi):
                keep[i] = starts[i] >= last_end
                if keep[i]:
                    last_end = ends[i]
    return Spans(doc[keep], starts[keep], ends[keep], labels[keep])


@dataclass
class Tokens:
    """The non-space tokens of some documents: text, character offsets, document and sentence numbers."""

    words: pa.Array
    start: np.ndarray
    end: np.ndarray
    doc: np.ndarray
    sentence: np.ndarray


def sentence_starts(final: np.ndarray, is_punct: np.ndarray, opens: np.ndarray) -> np.ndarray:
    """spaCy's ``Sentencizer`` rule over the tokens of many paragraphs at once.

    The sentencizer walks a Doc's tokens: a token whose text is one of its
    ``punct_chars`` ("seen period") makes the next token that is neither punctuation
    nor one of those characters start a sentence; a Doc's first token always starts
    one. Here the rule reads token arrays instead: a "plain" token starts a sentence
    when a sentence-final token lies between it and the plain token before it in its
    paragraph. ``final`` marks the tokens whose text is one of ``punct_chars``,
    ``opens`` each paragraph's (Doc's) first token. Tests hold it to the sentencizer itself.
    """
    seen = np.cumsum(final, dtype=np.int32)  # (int32: the counts stay within one chunk of documents)
    paragraph = np.cumsum(opens, dtype=np.int32) - 1
    before = (seen - final)[opens]  # sentence-final tokens before each paragraph
    plain = np.flatnonzero(~is_punct & ~final)
    previous = np.concatenate([[0], seen[plain][:-1]])  # count at the plain token before
    new_paragraph = np.concatenate([[True], paragraph[plain][1:] != paragraph[plain][:-1]])
    previous = np.where(new_paragraph, before[paragraph[plain]], previous)
    starts = opens.copy()
    starts[plain] |= seen[plain] > previous
    return starts


def tokenise(texts: list[str]) -> Tokens:
    """spaCy's tokenizer over every paragraph (line) of every text, with its sentencizer's sentences.

    The tokenizer runs per paragraph (a paragraph always starts a sentence). Per token
    only its offset and ORTH (the hash of its text) leave spaCy (``Doc.to_array``);
    everything else is looked up once per distinct token text: the string itself, its
    length, spaCy's IS_SPACE and IS_PUNCT flags of its lexeme, and whether the
    sentencizer ends sentences on it. The sentencizer's rule is then applied to the
    arrays with ``sentence_starts`` (same result, no Python object per token).
    """
    from spacy.attrs import IDX, ORTH

    nlp = _nlp()
    punct_chars = set(nlp.get_pipe("sentencizer").punct_chars)
    paragraphs, para_doc, para_base = [], [], []
    doc_base = 0
    for d, text in enumerate(texts):
        base = 0
        for paragraph in text.split("\n"):
            paragraphs.append(paragraph)
            para_doc.append(d)
            para_base.append(doc_base + base)
            base += len(paragraph) + 1
        doc_base += len(text) + 1
    arrays, owners = [], []
    for d, base, doc in zip(para_doc, para_base, nlp.tokenizer.pipe(paragraphs, batch_size=1000)):
        if len(doc):
            arrays.append(doc.to_array([IDX, ORTH]))
            owners.append((d, base, len(doc)))
    if not arrays:
        z = np.zeros(0, np.int64)
        return Tokens(pa.array([], pa.string()), z, z, z, z)
    a = np.concatenate(arrays)
    d, base, n = (np.asarray(x, dtype=np.int64) for x in zip(*owners))
    opens = np.zeros(len(a), dtype=bool)
    opens[np.concatenate([[0], np.cumsum(n)[:-1]])] = True
    # the distinct token texts (a hash pass over ORTH), and what spaCy knows of each
    encoded = pc.dictionary_encode(pa.array(np.ascontiguousarray(a[:, 1])))  # (a strided column converts slowly)
    code = encoded.indices.to_numpy()
    strings = [nlp.vocab.strings[h] for h in encoded.dictionary.to_pylist()]
    lexemes = [nlp.vocab[t] for t in strings]
    is_space = np.fromiter((x.is_space for x in lexemes), dtype=bool, count=len(strings))[code]
    is_punct = np.fromiter((x.is_punct for x in lexemes), dtype=bool, count=len(strings))[code]
    final = np.fromiter((t in punct_chars for t in strings), dtype=bool, count=len(strings))[code]
    length = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))[code]
    first = sentence_starts(final, is_punct, opens)
    sentence = np.cumsum(first) - 1  # sentence number over these texts, before dropping spaces
    keep = ~is_space
    start = a[:, 0].astype(np.int64) + np.repeat(base, n)
    doc = np.repeat(d, n)
    start, end, doc = start[keep], start[keep] + length[keep], doc[keep]
    words = pa.array(strings, pa.string()).take(pa.array(code[keep]))
    doc_starts = np.concatenate([[0], np.cumsum([len(t) + 1 for t in texts])[:-1]]).astype(np.int64)
    return Tokens(words, start - doc_starts[doc], end - doc_starts[doc], doc, sentence[keep])


def project(tokens: Tokens, spans: Spans):
    """BIO tags of the tokens, and the sentences as Arrow list arrays.

    ``spans`` holds the flat spans to tag of the same documents (``flat_spans``); a
    span's label is an index k (B- tag id 2k+1, I- tag id 2k+2, O is 0). A token is
    tagged by the first span of its document that ends after it starts, if that span
    starts before the token ends (B- when the span starts at or after the token).
    Returns (document index per sentence, sentence number within its
    document, tokens as list<string>, tags as list<int64>).
    """
    start, end, doc, sentence = tokens.start, tokens.end, tokens.doc, tokens.sentence
    if not len(start):
        empty = pa.array([], pa.list_(pa.string()))
        return np.zeros(0, np.int64), np.zeros(0, np.int64), empty, pa.array([], pa.list_(pa.int64()))
    tags = np.zeros(len(start), dtype=np.int64)
    if len(spans.doc):
        # (document, offset) as one int64 key; tokens and flat spans are both sorted by start and by end.
        # Span k tags the tokens that start in [end of span k-1, end of span k) and end after it starts:
        # one run of tokens, found by searching the few spans' keys among the tokens' ones
        width = int(max(end.max(), spans.end.max())) + 1
        token_start, token_end = doc * width + start, doc * width + end
        span_end = spans.doc * width + spans.end
        lo = np.maximum(np.searchsorted(token_start, np.concatenate([[-1], span_end[:-1]])),
                        np.searchsorted(token_end, spans.doc * width + spans.start, side="right"))
        hi = np.searchsorted(token_start, span_end)
        run = lo < hi
        owner = np.zeros(len(start) + 1, dtype=np.int64)  # span number + 1 of every token, 0 if none
        number = np.flatnonzero(run) + 1
        owner[lo[run]] += number
        owner[hi[run]] -= number
        owner = np.cumsum(owner[:-1])
        inside = np.flatnonzero(owner)
        k = owner[inside] - 1
        label = spans.label[k]
        tags[inside] = np.where(spans.start[k] >= start[inside], 2 * label + 1, 2 * label + 2)

    boundary = np.flatnonzero(np.diff(sentence)) + 1
    offsets = np.concatenate([[0], boundary, [len(sentence)]]).astype(np.int32)
    sent_doc = doc[offsets[:-1]]
    doc_first = np.flatnonzero(np.diff(sent_doc, prepend=-1))
    number = np.arange(len(sent_doc)) - np.repeat(doc_first, np.diff(np.append(doc_first, len(sent_doc))))
    words = pa.ListArray.from_arrays(pa.array(offsets), tokens.words)
    tag_lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(tags))
    return sent_doc, number, words, tag_lists


def ner_rows(ids: list[str], tokens: Tokens, spans: Spans) -> pa.Table:
    """The ``ner`` rows of some documents (``ids``, in the order ``tokens`` and ``spans`` number them):
    id ("<document>-<sentence number, 4 digits>"), document, sentence, tokens, ner_tags."""
    sent_doc, number, words, tags = project(tokens, spans)
    doc_ids = pa.array(ids, pa.string()).take(pa.array(sent_doc))
    number = pa.array(number, pa.int64())
    row_ids = pc.binary_join_element_wise(doc_ids, pc.utf8_lpad(pc.cast(number, pa.string()), 4, "0"), "-")
    return pa.table({"id": row_ids, "document": doc_ids, "sentence": number, "tokens": words, "ner_tags": tags})


def text_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
