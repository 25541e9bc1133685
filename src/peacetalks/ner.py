"""Tokens, sentences and BIO tags for the ``ner`` config (conll2003 style).

Each paragraph (a line of the text) is tokenised by spaCy's blank English pipeline
with its rule-based sentencizer; no model is downloaded. Mentions are projected onto
tokens: where mentions nest or overlap, the longest (earliest) one wins, as flat BIO
requires. A token overlapping a mention's first character is B-, later ones I-.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _flat(spans: tuple[list[int], list[int], list[str]]) -> list[tuple[int, int, str]]:
    """Outermost, non-overlapping spans: longest first at each start, left to right."""
    chosen, last_end = [], -1
    for s, e, t in sorted(zip(*spans), key=lambda x: (x[0], -(x[1] - x[0]))):
        if s >= last_end:
            chosen.append((s, e, t))
            last_end = e
    return chosen


def sentences(text: str, spans: tuple[list[int], list[int], list[str]]) -> Iterator[tuple[list[str], list[str]]]:
    """(tokens, BIO tags) for every sentence of a document text."""
    flat = _flat(spans)
    offsets, position = [], 0
    for paragraph in text.split("\n"):
        offsets.append(position)
        position += len(paragraph) + 1
    k = 0
    for base, doc in zip(offsets, _nlp().pipe(text.split("\n"))):
        for sent in doc.sents:
            tokens, tags = [], []
            for token in sent:
                if token.is_space:
                    continue
                start, end = base + token.idx, base + token.idx + len(token.text)
                while k < len(flat) and flat[k][1] <= start:
                    k += 1
                tag = "O"
                if k < len(flat) and flat[k][0] < end:
                    s, _, label = flat[k]
                    tag = ("B-" if s >= start else "I-") + label
                tokens.append(token.text)
                tags.append(tag)
            if tokens:
                yield tokens, tags
