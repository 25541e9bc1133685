"""``peacetalks export FORMAT``: a verified release in the files other tools read.

``conll``: CoNLL-2003's layout, ``train.conll``. One token per line, four columns separated
by one space: the token, ``-X-`` and ``_`` (part of speech and chunk, which this corpus does
not annotate; the placeholders keep the columns where CoNLL-2003 readers, conlleval and the
Hugging Face ``conll2003`` reader look for the tag) and the BIO tag (IOB2: every entity
starts with ``B-``). ``-DOCSTART- -X- -X- O`` and a blank line open each document; a blank
line ends each sentence. Tokens and tags are the release's ``ner`` config, row by row and
in its order (named mentions and time expressions; where they nest, the outermost). A token
never holds whitespace (the tokenizer splits on it); one that did would be refused, not
mangled.

``spacy``: a spaCy ``DocBin``, ``train.spacy`` (``DocBin().from_disk(path).get_docs(nlp.vocab)``
with any English pipeline's vocab). One ``Doc`` per document whose ``text`` is the document's
text exactly: the tokens are the ``ner`` config's (the same tokenizer, per paragraph), with the
line breaks and any further spacing as whitespace tokens, and its sentence boundaries are the
``ner`` config's sentences. ``doc.ents`` are the ``ner`` config's tags (named mentions and time
expressions, outermost where they nest); ``doc.spans["mentions"]`` holds every mention, nested
ones too, each with its type as ``label_``, its id as ``id_`` and its entity as ``kb_id_``;
``doc.user_data`` holds ``"document"`` (its id) and ``"mentions"`` (by mention id: ``level``,
``entity``, ``value``), which a DocBin keeps where it cannot keep span attributes.

The export reads the release a row group at a time, so it does not hold the corpus, and
is written like a release: to a temporary folder beside ``--out``, moved into place when
complete, with ``export.json`` (the format, the release's version and the sha256 of every
file) by which a later export recognises its own folder; any other existing folder is
refused.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard

from ..reading.files import (
    OutputError,
    check_output,
    dump_json,
    put_in_place,
    sha256_file,
    temp_dir_beside,
)
from ..release.layout import parquet_path
from ..release.ner import tokenise, vocab
from ..release.versions import verify

MARKER = "export.json"
_SPACE = re.compile(r"\s")


class ExportError(Exception):
    """The export refused or failed; the message says why, and nothing was written."""


def tag_names(release: Path, config: str = "ner", column: str = "ner_tags", field: str | None = None) -> list[str]:
    """The ClassLabel names of a label column (``field``: of the items of a list column), as the
    release's own card declares them."""
    card = DatasetCard.load(release / "README.md")
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    feature = infos[config].features[column]
    feature = getattr(feature, "feature", feature)
    return list((feature[field] if field else feature).names)


def _rows(release: Path, config: str, columns: list[str]):
    """The rows of a config, a row group at a time."""
    for batch in pq.ParquetFile(release / parquet_path(config)).iter_batches(columns=columns):
        yield from batch.to_pylist()


def write_spacy(release: Path, out: Path) -> list[str]:
    """``train.spacy`` (see the module's docstring)."""
    from spacy.tokens import (  # (spaCy only for this format: it loads slowly)
        Doc,
        DocBin,
        SpanGroup,
    )
    from spacy.training import biluo_tags_to_spans, iob_to_biluo

    tags = tag_names(release)
    types = tag_names(release, "documents", "mentions", "type")
    levels = tag_names(release, "documents", "mentions", "level")
    ner = _rows(release, "ner", ["document", "ner_tags"])
    pending = next(ner, None)
    docs = DocBin(store_user_data=True)
    for row in _rows(release, "documents", ["id", "text", "mentions"]):
        text = row["text"]
        t = tokenise([text])
        starts, ends = t.start.tolist(), t.end.tolist()
        words, spaces, is_token, sent_start = [], [], [], []
        at = 0
        for i, (start, end) in enumerate(zip(starts, ends)):
            if start > at:  # the spacing before this token: one space after a token, else whitespace tokens
                gap = text[at:start]
                if gap == " " and words and is_token[-1]:
                    spaces[-1] = True
                else:
                    words.append(gap), spaces.append(False), is_token.append(False), sent_start.append(False)
            words.append(text[start:end]), spaces.append(False), is_token.append(True)
            sent_start.append(i == 0 or bool(t.sentence[i] != t.sentence[i - 1]))
            at = end
        if at < len(text):
            words.append(text[at:]), spaces.append(False), is_token.append(False), sent_start.append(False)
        if words:
            sent_start[0] = True
        doc = Doc(vocab(), words=words, spaces=spaces, sent_starts=sent_start)
        assert doc.text == text, row["id"]  # (the tokens and spacing are the text's own)
        bio = []
        while pending is not None and pending["document"] == row["id"]:
            bio += [tags[k] for k in pending["ner_tags"]]
            pending = next(ner, None)
        if len(bio) != sum(is_token):
            raise ExportError(f"peacetalks export: document {row['id']}: the ner config's tokens are not the "
                              "text's; is the release built by another version of the tokenizer?")
        token_tags = iter(bio)
        doc.ents = biluo_tags_to_spans(doc, iob_to_biluo([next(token_tags) if k else "O" for k in is_token]))
        mentions, meta = [], {}
        for m in row["mentions"]:
            span = doc.char_span(m["start"], m["end"], label=types[m["type"]], alignment_mode="expand",
                                 kb_id=m["entity"] or "", span_id=m["id"])
            mentions.append(span)
            meta[m["id"]] = {"level": levels[m["level"]] if m["level"] >= 0 else None, "entity": m["entity"],
                             "value": m["value"]}
        doc.spans["mentions"] = SpanGroup(doc, name="mentions", spans=mentions)
        doc.user_data["document"] = row["id"]
        doc.user_data["mentions"] = meta
        docs.add(doc)
    target = out / "train.spacy"
    docs.to_disk(target)
    return [target.name]


def write_conll(release: Path, out: Path) -> list[str]:
    """``train.conll`` from the release's ``ner`` config (see the module's docstring)."""
    names = tag_names(release)
    target = out / "train.conll"
    last = None
    with target.open("w", encoding="utf-8", newline="\n") as f:
        for batch in pq.ParquetFile(release / parquet_path("ner")).iter_batches(columns=["id", "document", "tokens",
                                                                                         "ner_tags"]):
            for row_id, document, tokens, tags in zip(*(batch.column(i).to_pylist() for i in range(4))):
                if document != last:
                    f.write("-DOCSTART- -X- -X- O\n\n")
                    last = document
                for token, tag in zip(tokens, tags):
                    if not token or _SPACE.search(token):
                        raise ExportError(f"peacetalks export: {row_id}: token {token!r} is empty or holds "
                                          "whitespace; CoNLL columns are separated by spaces")
                    f.write(f"{token} -X- _ {names[tag]}\n")
                f.write("\n")
    return [target.name]


FORMATS: dict[str, Callable[[Path, Path], list[str]]] = {"conll": write_conll, "spacy": write_spacy}


def is_export(folder: Path) -> bool:
    """Whether ``folder`` is an export that ``export`` wrote: it has a peacetalks ``export.json``."""
    try:
        marker = orjson.loads((folder / MARKER).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(marker, dict) and marker.get("name") == "peacetalks-export"


def check_out(out: Path) -> None:
    """Refuse an ``out`` that exists and is neither empty nor an earlier export (before any work)."""
    try:
        check_output(out.resolve(), is_export, "a peacetalks export (it has no export.json)")
    except OutputError as e:
        raise ExportError(f"peacetalks export: {e}") from None


def export(fmt: str, release: Path, out: Path) -> Path:
    """Write ``release`` (a release folder that verifies against its manifest) in format ``fmt`` to ``out``."""
    if fmt not in FORMATS:
        raise ExportError(f"peacetalks export: unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    problems = verify(release)
    if problems:
        raise ExportError("peacetalks export: the release does not verify against its manifest; nothing was "
                          "written.\n" + "\n".join(p.render() for p in problems))
    out = out.resolve()
    check_out(out)
    manifest = orjson.loads((release / "manifest.json").read_bytes())
    tmp = temp_dir_beside(out)
    try:
        files = FORMATS[fmt](release, tmp)
        (tmp / MARKER).write_bytes(dump_json({
            "name": "peacetalks-export", "format": fmt, "version": manifest["version"],
            "files": {name: sha256_file(tmp / name) for name in sorted(files)}}))
        put_in_place(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
