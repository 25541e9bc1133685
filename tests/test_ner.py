"""The ner config's tokens and sentences are spaCy's, whatever the text holds.

``tokenise`` runs spaCy's tokenizer and applies its sentencizer's rule to the token
arrays at once; these tests hold it to the pipeline itself (tokenizer + sentencizer,
token by token) on the corpus texts and on generated text.
"""

from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from peacetalks.release.ner import _nlp, tokenise


def _spacy(texts: list[str]):
    """(document, start, end, text, sentence number) of every non-space token, from the pipeline itself."""
    out, number = [], -1
    for d, text in enumerate(texts):
        base = 0
        for paragraph in text.split("\n"):
            for sentence in _nlp()(paragraph).sents:
                number += 1
                out += [(d, base + t.idx, base + t.idx + len(t), t.text, number) for t in sentence if not t.is_space]
            base += len(paragraph) + 1
    return out


def _ours(texts: list[str]):
    t = tokenise(texts)
    return list(zip(t.doc.tolist(), t.start.tolist(), t.end.tolist(), t.words.to_pylist(), t.sentence.tolist()))


def _sentences(rows):
    """Token texts grouped by sentence."""
    out: list[list[str]] = []
    last = None
    for _, _, _, word, number in rows:
        if number != last:
            out.append([])
            last = number
        out[-1].append(word)
    return out


def test_the_corpus_texts_tokenise_as_spacy_does():
    texts = [p.read_text("utf-8").removesuffix("\n") for p in sorted((ROOT / "corpus").glob("*.txt"))]
    ours, theirs = _ours(texts), _spacy(texts)
    assert [r[:4] for r in ours] == [r[:4] for r in theirs]
    assert _sentences(ours) == _sentences(theirs)
    assert len(_sentences(ours)) > 100
    for (d, s, e, word, _) in ours:
        assert texts[d][s:e] == word


pieces = st.sampled_from(["Mr.", "Macron", "said", ".", "!", "?", "...", "”", "“", "\"", "'", "(", ")", " ", "  ",
                          "\n", "Kyiv", "Zürich", "😀", "U.S.", "e.g.", ",", ";", ":", "—", "۔", "。", "\t", "..."])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(pieces, max_size=30).map(lambda ws: " ".join(ws) if ws else "").map(str.strip), max_size=4))
def test_generated_text_tokenises_as_spacy_does(texts):
    ours, theirs = _ours(texts), _spacy(texts)
    assert [r[:4] for r in ours] == [r[:4] for r in theirs]
    assert _sentences(ours) == _sentences(theirs)


# ---------------------------------------------------------------- BIO projection

def _reference_tags(tokens, spans):
    """The projection's rule, token by token: the first span (by end) of the document that ends after
    the token starts tags it if it starts before the token ends; B- if it starts at or after the token."""
    tags = []
    for doc, start, end in tokens:
        tag = 0
        for s_doc, s_start, s_end, label in spans:
            if s_doc == doc and s_end > start:
                if s_start < end:
                    tag = 2 * label + 1 if s_start >= start else 2 * label + 2
                break
        tags.append(tag)
    return tags


@st.composite
def _tokens_and_spans(draw):
    """Documents of non-overlapping tokens (gaps between), and flat spans over them, some cutting tokens."""
    tokens, spans = [], []
    for doc in range(draw(st.integers(1, 3))):
        pos = 0
        for _ in range(draw(st.integers(0, 12))):
            pos += draw(st.integers(0, 2))
            width = draw(st.integers(1, 4))
            tokens.append((doc, pos, pos + width))
            pos += width
        edge = 0
        for _ in range(draw(st.integers(0, 5))):
            start = edge + draw(st.integers(0, 4))
            end = start + draw(st.integers(1, 6))
            spans.append((doc, start, end, draw(st.integers(0, 7))))
            edge = end
    return tokens, spans


@settings(max_examples=300, deadline=None)
@given(_tokens_and_spans())
def test_bio_projection_follows_its_rule(case):
    import numpy as np
    import pyarrow as pa

    from peacetalks.release.ner import Spans, Tokens, project
    tokens, spans = case
    arr = np.array(tokens, dtype=np.int64).reshape(-1, 3)
    t = Tokens(pa.array([f"w{i}" for i in range(len(tokens))], pa.string()), arr[:, 1], arr[:, 2], arr[:, 0],
               arr[:, 0].copy())  # one sentence per document
    s = np.array(spans, dtype=np.int64).reshape(-1, 4)
    _, _, _, tags = project(t, Spans(s[:, 0], s[:, 1], s[:, 2], s[:, 3]))
    assert [tag for sentence in tags.to_pylist() for tag in sentence] == _reference_tags(tokens, spans)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 30), st.integers(1, 8), st.integers(0, 7)), max_size=25),
       st.booleans())
def test_flat_spans_keep_the_outermost_left_to_right(rows, presorted):
    """Longest first at each start, then a span is kept when it starts at or after the end of the last kept one."""
    import numpy as np

    from peacetalks.release.ner import flat_spans
    spans = [(d, s, s + n, label) for d, s, n, label in rows]
    if presorted:  # as `peacetalks fmt` writes them (the fast path skips the sort)
        spans.sort(key=lambda r: (r[0], r[1], -(r[2] - r[1])))
    expected, last = [], {}
    for d, s, e, label in sorted(spans, key=lambda r: (r[0], r[1], -(r[2] - r[1]))):
        if s >= last.get(d, -1):
            expected.append((d, s, e, label))
            last[d] = e
    a = np.array(spans, dtype=np.int64).reshape(-1, 4)
    got = flat_spans(a[:, 0], a[:, 1], a[:, 2], a[:, 3])
    assert list(zip(got.doc.tolist(), got.start.tolist(), got.end.tolist(), got.label.tolist())) == expected
