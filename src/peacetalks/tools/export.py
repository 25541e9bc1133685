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

``brat``: brat's standoff format, ``<document>.txt`` and ``<document>.ann`` per document, with
``annotation.conf``, ``visual.conf`` and ``tools.conf`` generated from the release's label
inventories, so that a brat server opens the folder as it is. Mentions, time expressions and
event triggers are text-bound ``T`` annotations (event types written with ``-`` for ``.``:
``Contact-Meet``), a mention's level is an attribute ``Level``, its id, entity and value go in
its ``AnnotatorNotes`` (one JSON object) and a linked entity's Wikidata id is a normalization ``N`` (``Wikidata:Q…``);
events are ``E`` annotations with their roles (``Participant``, ``Participant2``, …) and the
attributes ``Realis`` and ``Modality``; a quote is a ``Quote`` span with the relations
``Speaker``, ``Addressee`` and ``HasCue`` (to its ``Cue`` span) and the attribute ``Kind``;
a flag with a span is a ``Flag`` span with its code and note in its notes. A span that
crosses a line break is written as fragments (``start end;start end``). Flags without a span
(about the whole document) have no place in standoff and are not exported (``peacetalks import
brat`` keeps those of the current annotation file).

``label-studio``: Label Studio's import format, ``tasks.json`` (one task per document: its text
and id under ``data``, and its annotations as ``predictions`` that a reviewer accepts or
corrects) and ``labeling-config.xml`` (the labeling interface, generated from the label
inventories: span labels for the mention and time types, the event types as trigger labels,
``Quote``, ``Cue`` and ``Flag``, the ``Speaker``, ``Addressee``, ``HasCue`` and argument-role
relations, and per-region controls, shown when a region of their labels is selected: choices
``level``, ``realis``, ``modality``, ``kind`` and ``code``, text areas ``entity``, ``value``,
``xdoc`` and ``note``). Each region keeps its annotation id (``id``); its attributes are
per-region results with the region's id, as Label Studio writes them. Flags about the whole document, which have no region, are the
task's ``data.flags`` (``code``, ``note``). Offsets are Label Studio's: in
UTF-16 code units, as JavaScript counts a string (a character beyond U+FFFF, an emoji, counts
two), where the corpus counts code points.

``inception``: UIMA CAS XMI, ``<document>.xmi`` per document and ``TypeSystem.xml``, written with
dkpro-cassis, as INCEpTION imports them ("UIMA CAS XMI (XML 1.0)"; offsets in UTF-16 units, as
UIMA counts them: cassis converts). Entity mentions use INCEpTION's built-in ``NamedEntity``
layer (``value``: the type; ``identifier``: the Wikidata URL where the entity has one), with
the features ``level``, ``entity`` and ``mentionId`` added; time expressions, events, quotes and
cues are custom layers (``webanno.custom.TimeExpression``, ``Event``, ``Quote``, ``Cue``), each
label in a feature ``value`` as INCEpTION's own layers keep it (a time expression's TIMEX3 value
is ``normalized``). An event's arguments are INCEpTION's link (slot) features: ``arguments``, an
array of ``webanno.custom.EventArgumentsLink`` (``role``, ``target``); a quote's ``speaker``,
``addressee`` and ``cue`` are references to the annotations. Flags are ``webanno.custom.Flag``
spans, or, about the whole document, ``webanno.custom.DocumentFlag`` (a document metadata
layer), both with ``code`` and ``note``. Each annotation is on its own line of the XMI.

To annotate in INCEpTION, import ``layers.json`` (INCEpTION's layer export format: Project
settings → Layers → Import; each label feature comes with its tag set and the labels'
definitions), then the documents as "UIMA CAS XMI". The layer file follows INCEpTION's
``ExportedAnnotationLayer`` as its source defines it; it is checked here against the type
system, not against a running INCEpTION.

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
from types import SimpleNamespace

import orjson
import pyarrow.parquet as pq
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard

from ..model.labels import Labels
from ..reading.files import (
    OutputError,
    check_output,
    dump_json,
    put_in_place,
    sha256_file,
    temp_dir_beside,
)
from ..reading.project import package_schema_dir
from ..release.layout import parquet_path
from ..release.ner import tokenise, vocab
from ..release.versions import verify

MARKER = "export.json"
_SPACE = re.compile(r"\s")


class ExportError(Exception):
    """The export refused or failed; the message says why, and nothing was written."""


def tag_names(release: Path, config: str = "ner", column: str = "ner_tags", field: str | None = None) -> list[str]:
    """The ClassLabel names of one label column (``field``: of the items of a list column), as the
    release's own card declares them (``label_names`` reads every column an export writes at once)."""
    card = DatasetCard.load(release / "README.md")
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    feature = infos[config].features[column]
    feature = getattr(feature, "feature", feature)
    return list((feature[field] if field else feature).names)


#: every label column an export writes: its name here -> (config, column, field of a list column's items)
LABEL_COLUMNS = {"ner": ("ner", "ner_tags", None), "types": ("documents", "mentions", "type"),
                 "levels": ("documents", "mentions", "level"), "event_types": ("documents", "events", "type"),
                 "realis": ("documents", "events", "realis"), "modality": ("documents", "events", "modality"),
                 "roles": ("events", "arguments", "role"), "kinds": ("documents", "quotes", "kind"),
                 "codes": ("documents", "flags", "code")}


def label_names(release: Path) -> SimpleNamespace:
    """The ClassLabel names of every label column an export writes (``LABEL_COLUMNS``: ``names.types``,
    ``names.roles``, ...), from the release's card, read once."""
    card = DatasetCard.load(release / "README.md")
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    out = {}
    for key, (config, column, field) in LABEL_COLUMNS.items():
        feature = infos[config].features[column]
        feature = getattr(feature, "feature", feature)
        out[key] = list((feature[field] if field else feature).names)
    return SimpleNamespace(**out)


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

    n = label_names(release)
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
            bio += [n.ner[k] for k in pending["ner_tags"]]
            pending = next(ner, None)
        if len(bio) != sum(is_token):
            raise ExportError(f"peacetalks export: document {row['id']}: the ner config's tokens are not the "
                              "text's; is the release built by another version of the tokenizer?")
        token_tags = iter(bio)
        doc.ents = biluo_tags_to_spans(doc, iob_to_biluo([next(token_tags) if k else "O" for k in is_token]))
        mentions, meta = [], {}
        for m in row["mentions"]:
            span = doc.char_span(m["start"], m["end"], label=n.types[m["type"]], alignment_mode="expand",
                                 kb_id=m["entity"] or "", span_id=m["id"])
            mentions.append(span)
            meta[m["id"]] = {"level": n.levels[m["level"]] if m["level"] >= 0 else None, "entity": m["entity"],
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


def _brat_type(name: str) -> str:
    return name.replace(".", "-")


def _fragments(text: str, start: int, end: int) -> tuple[str, str]:
    """A span as brat offsets (fragments split at line breaks) and its text as brat shows it."""
    pieces, at = [], start
    for part in text[start:end].split("\n"):
        if part:
            pieces.append((at, at + len(part)))
        at += len(part) + 1
    return ";".join(f"{a} {b}" for a, b in pieces), " ".join(text[a:b] for a, b in pieces)


def brat_conf(release: Path) -> dict[str, str]:
    """annotation.conf, visual.conf and tools.conf from the release's label inventories (its card's
    ClassLabels); the types each role takes come from labels.json, where its inventories are the
    release's (else a role takes any entity)."""
    n = label_names(release)
    labels = Labels(package_schema_dir() / "labels.json")
    roles_of = labels.event_roles if labels["EventType"].names == n.event_types and \
        labels.mention_types == n.types else {}
    entities = list(n.types)
    speakers = "|".join(labels.entity_types) if roles_of else "<ENTITY>"
    events = []
    for event_type in n.event_types:
        roles = roles_of.get(event_type)
        args = (", ".join(f"{role}*:{'|'.join(types)}" for role, types in roles.items()) if roles
                else ", ".join(f"{role}*:<ENTITY>" for role in n.roles))
        events.append(f"{_brat_type(event_type)}\t{args}".rstrip())
    annotation = "\n".join([
        "# written by peacetalks export brat from the release's label inventories",
        "[entities]", *entities, "Quote", "Cue", "Flag", "",
        "[relations]",
        f"Speaker\tArg1:Quote, Arg2:{speakers}",
        f"Addressee\tArg1:Quote, Arg2:{speakers}",
        "HasCue\tArg1:Quote, Arg2:Cue",
        "<OVERLAP>\tArg1:<ANY>, Arg2:<ANY>, <OVL-TYPE>:<ANY>", "",
        "[events]", *events, "",
        "[attributes]",
        f"Level\tArg:{'|'.join(labels.entity_types) if roles_of else '<ENTITY>'}, Value:{'|'.join(n.levels)}",
        f"Realis\tArg:<EVENT>, Value:{'|'.join(n.realis)}",
        f"Modality\tArg:<EVENT>, Value:{'|'.join(n.modality)}",
        f"Kind\tArg:Quote, Value:{'|'.join(n.kinds)}", ""])
    visual = "\n".join(["[labels]", *(f"{_brat_type(x)} | {x}" for x in entities + n.event_types), "",
                         "[drawing]", "Quote\tbgColor:#ffffcc", "Cue\tbgColor:#ffcc99", "Flag\tbgColor:#ff9999",
                         "SPAN_DEFAULT\tfgColor:black, bgColor:lightgreen, borderColor:darken",
                         "ARC_DEFAULT\tcolor:black, arrowHead:triangle-5", ""])
    tools = "\n".join(["[normalization]",
                        "Wikidata\tDB:wikidata, <URL>:https://www.wikidata.org/, "
                        "<URLBASE>:https://www.wikidata.org/wiki/%s", ""])
    return {"annotation.conf": annotation, "visual.conf": visual, "tools.conf": tools}


def write_brat(release: Path, out: Path) -> list[str]:
    """A brat standoff folder (see the module's docstring)."""
    n = label_names(release)
    conf = brat_conf(release)
    for name, text in conf.items():
        (out / name).write_text(text, encoding="utf-8")
    wikidata = {r["id"]: (r["wikidata"], r["name"]) for r in _rows(release, "entities", ["id", "name", "wikidata"])
                if r["wikidata"]}
    files = list(conf)
    for row in _rows(release, "documents", ["id", "text", "mentions", "events", "quotes", "flags"]):
        text, lines, counts = row["text"], [], {"T": 0, "E": 0, "R": 0, "A": 0, "N": 0, "#": 0}

        def new(kind: str) -> str:
            counts[kind] += 1
            return f"{kind}{counts[kind]}"

        def span(label: str, start: int, end: int) -> str:
            t = new("T")
            offsets, shown = _fragments(text, start, end)
            lines.append(f"{t}\t{label} {offsets}\t{shown}")
            return t

        def notes(target: str, **values) -> None:
            given = {k: v for k, v in values.items() if v is not None}
            if given:  # (one JSON object: any note, line breaks and ';' included, reads back as written)
                lines.append(f"{new('#')}\tAnnotatorNotes {target}\t{orjson.dumps(given).decode()}")

        mention_t = {}
        for m in row["mentions"]:
            t = mention_t[m["id"]] = span(n.types[m["type"]], m["start"], m["end"])
            if m["level"] >= 0:
                lines.append(f"{new('A')}\tLevel {t} {n.levels[m['level']]}")
            notes(t, id=m["id"], entity=m["entity"], value=m["value"])
            if m["entity"] in wikidata:
                qid, name = wikidata[m["entity"]]
                lines.append(f"{new('N')}\tReference {t} Wikidata:{qid}\t{name}")
        for e in row["events"]:
            etype = _brat_type(n.event_types[e["type"]])
            trigger = span(etype, e["trigger_start"], e["trigger_end"])
            seen: dict[str, int] = {}
            args = []
            for a in e["arguments"]:
                role = n.roles[a["role"]]
                seen[role] = seen.get(role, 0) + 1
                if a["mention"] in mention_t:
                    args.append(f"{role}{seen[role] if seen[role] > 1 else ''}:{mention_t[a['mention']]}")
            eid = new("E")
            lines.append(f"{eid}\t{etype}:{trigger}" + "".join(f" {x}" for x in args))
            lines.append(f"{new('A')}\tRealis {eid} {n.realis[e['realis']]}")
            if e["modality"] >= 0:
                lines.append(f"{new('A')}\tModality {eid} {n.modality[e['modality']]}")
            notes(eid, id=e["id"], xdoc=e["xdoc"])
        for q in row["quotes"]:
            content = span("Quote", q["content_start"], q["content_end"])
            lines.append(f"{new('A')}\tKind {content} {n.kinds[q['kind']]}")
            notes(content, id=q["id"])
            for relation, mention in (("Speaker", q["speaker"]), ("Addressee", q["addressee"])):
                if mention in mention_t:
                    lines.append(f"{new('R')}\t{relation} Arg1:{content} Arg2:{mention_t[mention]}")
            if q["cue_start"] is not None:
                cue = span("Cue", q["cue_start"], q["cue_end"])
                lines.append(f"{new('R')}\tHasCue Arg1:{content} Arg2:{cue}")
        for f in row["flags"]:
            if f["start"] is not None:
                notes(span("Flag", f["start"], f["end"]), code=n.codes[f["code"]], note=f["note"])
        (out / f"{row['id']}.txt").write_text(text, encoding="utf-8", newline="\n")
        (out / f"{row['id']}.ann").write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
        files += [f"{row['id']}.txt", f"{row['id']}.ann"]
    return files


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def utf16_offsets(text: str):
    """A function from code point offsets in ``text`` to UTF-16 code unit offsets (JavaScript's)."""
    astral = [m.start() for m in _ASTRAL.finditer(text)]
    if not astral:
        return lambda i: i
    import bisect
    return lambda i: i + bisect.bisect_left(astral, i)


NE = "de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity"
CUSTOM = "webanno.custom."


def inception_typesystem():
    """The type system of the ``inception`` export: NamedEntity with three features added, and the
    custom layers."""
    from cassis import TypeSystem
    ts = TypeSystem()
    string, ann = "uima.cas.String", "uima.tcas.Annotation"
    ne = ts.create_type(NE, ann)
    for name in ("value", "identifier", "level", "entity", "mentionId"):
        ts.create_feature(ne, name, string)
    timex = ts.create_type(CUSTOM + "TimeExpression", ann)
    for name in ("value", "normalized", "mentionId"):
        ts.create_feature(timex, name, string)
    cue = ts.create_type(CUSTOM + "Cue", ann)
    link = ts.create_type(CUSTOM + "EventArgumentsLink", "uima.cas.TOP")
    ts.create_feature(link, "role", string)
    ts.create_feature(link, "target", ann)
    event = ts.create_type(CUSTOM + "Event", ann)
    for name in ("value", "realis", "modality", "xdoc", "eventId"):
        ts.create_feature(event, name, string)
    ts.create_feature(event, "arguments", "uima.cas.FSArray", elementType=link, multipleReferencesAllowed=True)
    quote = ts.create_type(CUSTOM + "Quote", ann)
    for name in ("kind", "quoteId"):
        ts.create_feature(quote, name, string)
    for name in ("speaker", "addressee"):
        ts.create_feature(quote, name, ann)
    ts.create_feature(quote, "cue", cue)
    flag = ts.create_type(CUSTOM + "Flag", ann)
    document_flag = ts.create_type(CUSTOM + "DocumentFlag", "uima.cas.AnnotationBase")  # (a document metadata layer)
    for t in (flag, document_flag):
        for name in ("code", "note"):
            ts.create_feature(t, name, string)
    return ts


def inception_layers(release: Path) -> list[dict]:
    """The layers of the ``inception`` export in INCEpTION's layer export format (a JSON list of
    ``ExportedAnnotationLayer``, as Project settings → Layers → Import layers reads it): the
    features of ``inception_typesystem``, each label feature with its tag set from the release's
    inventories (described from labels.json where it knows the label)."""
    n = label_names(release)
    labels = Labels(package_schema_dir() / "labels.json")
    described = {label.name: f"{label.title}. {label.description}" for key in labels.inventories
                 for label in labels[key].labels}

    def tagset(name: str, tags: list[str]) -> dict:
        return {"name": f"peacetalks {name}", "description": f"peacetalks' {name} labels (schema/labels.json)",
                "language": "en", "tags": [{"tag_name": t, "tag_description": described.get(t, t)} for t in tags],
                "create_tag": False}

    def feature(name: str, description: str, tags: tuple[str, list[str]] | None = None, kind: str = "uima.cas.String",
                required: bool = False, **link) -> dict:
        return {"name": name, "tag_set": tagset(*tags) if tags else None, "uiName": name, "type": kind,
                "enabled": True, "visible": True, "include_in_hover": False, "required": required, "remember": False,
                "hideUnconstraintFeature": False, "description": description,
                "multi_value_mode": link.get("multi", "NONE"), "link_mode": link.get("mode", "NONE"),
                "link_type_name": link.get("link"), "link_type_role_feature_name": link.get("role"),
                "link_type_target_feature_name": link.get("target"), "traits": None}

    def layer(name: str, ui: str, description: str, features: list[dict], kind: str = "span",
              built_in: bool = False) -> dict:
        return {"name": name, "features": features, "uiName": ui, "type": kind, "description": description,
                "enabled": True, "built_in": built_in, "readonly": False, "attach_type": None,
                "attach_feature": None, "allow_stacking": True, "cross_sentence": True, "show_hover": True,
                "anchoring_mode": "CHARACTERS", "overlap_mode": "ANY_OVERLAP", "validation_mode": "ALWAYS",
                "lock_to_token_offset": False, "multiple_tokens": True, "linked_list_behavior": False,
                "on_click_javascript_action": None, "traits": None}

    entity_types = [t for t in n.types if t in labels.entity_types] or n.types
    timex_types = [t for t in n.types if t not in entity_types]
    id_note = "the corpus id; leave it empty on a new annotation (peacetalks import gives the next free one)"
    return [
        layer(NE, "Named entity", "Entity mentions (GUIDELINES §2): names, nominals and pronouns", [
            feature("value", "the entity type", ("entity types", entity_types), required=True),
            feature("identifier", "the entity's Wikidata URL"),
            feature("level", "the mention level", ("mention levels", n.levels), required=True),
            feature("entity", "the entity's id in annotations/entities.json (new ids are proposed on import)"),
            feature("mentionId", id_note)], built_in=True),
        layer(CUSTOM + "TimeExpression", "Time expression", "Time expressions (GUIDELINES §3)", [
            feature("value", "the TIMEX3 type", ("time types", timex_types), required=True),
            feature("normalized", "the TIMEX3 value (2025-04-18, XXXX-03, PRESENT_REF)"),
            feature("mentionId", id_note)]),
        layer(CUSTOM + "Cue", "Cue", "A quote's cue (said, according to)", []),
        layer(CUSTOM + "Event", "Event", "Events (GUIDELINES §4), on their trigger", [
            feature("value", "the event type", ("event types", n.event_types), required=True),
            feature("realis", "the event's realis", ("realis", n.realis), required=True),
            feature("modality", "the modality of an event that is not actual", ("modality", n.modality)),
            feature("xdoc", "the id of a cross-document event (annotations/xdoc-events.json)"),
            feature("eventId", id_note),
            feature("arguments", "the event's arguments: a role per linked mention", kind="uima.tcas.Annotation",
                    multi="ARRAY", mode="WITH_ROLE", link=CUSTOM + "EventArgumentsLink", role="role",
                    target="target")]),
        layer(CUSTOM + "Quote", "Quote", "Attributed quotes (GUIDELINES §5), on their content", [
            feature("kind", "direct, indirect or mixed", ("quote kinds", n.kinds), required=True),
            feature("quoteId", id_note),
            feature("speaker", "the speaker's mention", kind=NE),
            feature("addressee", "the addressee's mention", kind=NE),
            feature("cue", "the quote's cue", kind=CUSTOM + "Cue")]),
        layer(CUSTOM + "Flag", "Flag", "A problem of the text at a span", [
            feature("code", "the flag", ("flag codes", n.codes), required=True), feature("note", "why")]),
        layer(CUSTOM + "DocumentFlag", "Document flag", "A problem of the whole text", [
            feature("code", "the flag", ("flag codes", n.codes), required=True), feature("note", "why")],
            kind="document-metadata"),
    ]


def write_inception(release: Path, out: Path) -> list[str]:
    """``<document>.xmi`` and ``TypeSystem.xml`` (see the module's docstring)."""
    n = label_names(release)
    try:
        from cassis import Cas  # (an optional extra: this format only)
    except ImportError:
        raise ExportError("peacetalks export: the inception format needs dkpro-cassis: "
                          "pip install 'peacetalks-corpus[export]'") from None
    ts = inception_typesystem()
    wikidata = {r["id"]: r["wikidata"] for r in _rows(release, "entities", ["id", "wikidata"]) if r["wikidata"]}
    Entity, Timex, Event = ts.get_type(NE), ts.get_type(CUSTOM + "TimeExpression"), ts.get_type(CUSTOM + "Event")
    Link, Quote, Cue = ts.get_type(CUSTOM + "EventArgumentsLink"), ts.get_type(CUSTOM + "Quote"), ts.get_type(CUSTOM + "Cue")
    FSArray = ts.get_type("uima.cas.FSArray")
    files = ["TypeSystem.xml", "layers.json"]
    ts.to_xml(out / "TypeSystem.xml")
    (out / "layers.json").write_bytes(dump_json(inception_layers(release)))
    Flag, DocumentFlag = ts.get_type(CUSTOM + "Flag"), ts.get_type(CUSTOM + "DocumentFlag")
    for row in _rows(release, "documents", ["id", "text", "mentions", "events", "quotes", "flags"]):
        cas = Cas(typesystem=ts)
        cas.sofa_string = row["text"]
        mentions = {}
        for m in row["mentions"]:
            if m["entity"] is not None:
                qid = wikidata.get(m["entity"])
                a = Entity(begin=m["start"], end=m["end"], value=n.types[m["type"]],
                           identifier=f"https://www.wikidata.org/wiki/{qid}" if qid else None,
                           level=n.levels[m["level"]] if m["level"] >= 0 else None, entity=m["entity"], mentionId=m["id"])
            else:
                a = Timex(begin=m["start"], end=m["end"], value=n.types[m["type"]], normalized=m["value"],
                          mentionId=m["id"])
            cas.add(a)
            mentions[m["id"]] = a
        for e in row["events"]:
            links = [Link(role=n.roles[x["role"]], target=mentions[x["mention"]])
                     for x in e["arguments"] if x["mention"] in mentions]
            cas.add(Event(begin=e["trigger_start"], end=e["trigger_end"], value=n.event_types[e["type"]],
                          realis=n.realis[e["realis"]], modality=n.modality[e["modality"]] if e["modality"] >= 0 else None,
                          xdoc=e["xdoc"], eventId=e["id"], arguments=FSArray(elements=links)))
        for q in row["quotes"]:
            cue = None
            if q["cue_start"] is not None:
                cue = Cue(begin=q["cue_start"], end=q["cue_end"])
                cas.add(cue)
            cas.add(Quote(begin=q["content_start"], end=q["content_end"], kind=n.kinds[q["kind"]], quoteId=q["id"],
                          speaker=mentions.get(q["speaker"]), addressee=mentions.get(q["addressee"]), cue=cue))
        for f in row["flags"]:
            if f["start"] is None:
                cas.add(DocumentFlag(code=n.codes[f["code"]], note=f["note"]))
            else:
                cas.add(Flag(begin=f["start"], end=f["end"], code=n.codes[f["code"]], note=f["note"]))
        cas.to_xmi(out / f"{row['id']}.xmi", pretty_print=True)  # (one annotation per line: import names lines)
        files.append(f"{row['id']}.xmi")
    return files


#: Label Studio's per-region controls: name -> (the control, the layers' labels it shows for)
LS_ATTRIBUTES = {"level": ("Choices", "entity"), "entity": ("TextArea", "entity"), "value": ("TextArea", "time"),
                 "realis": ("Choices", "event"), "modality": ("Choices", "event"), "xdoc": ("TextArea", "event"),
                 "kind": ("Choices", "Quote"), "code": ("Choices", "Flag"), "note": ("TextArea", "Flag")}


def labeling_config(release: Path) -> str:
    """Label Studio's labeling interface for the corpus, from the release's label inventories: span
    labels, relations, and per region (shown when a region of its labels is selected) the
    attributes of its layer: choices for the labelled ones, text areas for ids and values."""
    n = label_names(release)
    from xml.sax.saxutils import quoteattr
    labels = Labels(package_schema_dir() / "labels.json")
    types, events, roles = n.types, n.event_types, n.roles
    shown = {"entity": [t for t in types if t in labels.entity_types] or types,
             "time": [t for t in types if t not in labels.entity_types], "event": events,
             "Quote": ["Quote"], "Flag": ["Flag"]}
    choices = {"level": n.levels, "realis": n.realis, "modality": n.modality, "kind": n.kinds,
               "code": n.codes}
    lines = ['<View>', '  <Labels name="label" toName="text">',
             *(f'    <Label value={quoteattr(t)}/>' for t in [*types, *events, "Quote", "Cue", "Flag"]),
             '  </Labels>', '  <Relations>',
             *(f'    <Relation value={quoteattr(r)}/>' for r in ["Speaker", "Addressee", "HasCue", *roles]),
             '  </Relations>', '  <Text name="text" value="$text"/>']
    for name, (control, group) in LS_ATTRIBUTES.items():
        when = quoteattr(",".join(shown[group]))
        head = (f'  <{control} name="{name}" toName="text" perRegion="true" visibleWhen="region-selected" '
                f'whenLabelValue={when}')
        if control == "Choices":
            lines += [head + ' choice="single">', *(f'    <Choice value={quoteattr(c)}/>' for c in choices[name]),
                      '  </Choices>']
        else:
            lines.append(head + ' maxSubmissions="1" editable="true"/>')
    return "\n".join([*lines, '</View>', ''])


def write_label_studio(release: Path, out: Path) -> list[str]:
    """``tasks.json`` and ``labeling-config.xml`` (see the module's docstring)."""
    n = label_names(release)
    version = orjson.loads((release / "manifest.json").read_bytes())["version"]
    tasks = []
    for row in _rows(release, "documents", ["id", "text", "mentions", "events", "quotes", "flags"]):
        text, result = row["text"], []
        js = utf16_offsets(text)

        def region(rid: str, start: int, end: int, label: str, **attributes) -> None:
            place = {"start": js(start), "end": js(end), "text": text[start:end]}
            result.append({"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
                           "value": {**place, "labels": [label]}})
            for name, value in attributes.items():
                if value is not None:
                    control = LS_ATTRIBUTES[name][0].lower()
                    result.append({"id": rid, "from_name": name, "to_name": "text", "type": control,
                                   "value": {**place, "choices" if control == "choices" else "text": [value]}})

        def relation(a: str, b: str, label: str) -> None:
            result.append({"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": [label]})

        for m in row["mentions"]:
            region(m["id"], m["start"], m["end"], n.types[m["type"]], level=n.levels[m["level"]] if m["level"] >= 0
                   else None, entity=m["entity"], value=m["value"])
        for e in row["events"]:
            region(e["id"], e["trigger_start"], e["trigger_end"], n.event_types[e["type"]], realis=n.realis[e["realis"]],
                   modality=n.modality[e["modality"]] if e["modality"] >= 0 else None, xdoc=e["xdoc"])
            for a in e["arguments"]:
                relation(e["id"], a["mention"], n.roles[a["role"]])
        for q in row["quotes"]:
            region(q["id"], q["content_start"], q["content_end"], "Quote", kind=n.kinds[q["kind"]])
            if q["cue_start"] is not None:
                region(f"{q['id']}-cue", q["cue_start"], q["cue_end"], "Cue")
                relation(q["id"], f"{q['id']}-cue", "HasCue")
            for name in ("speaker", "addressee"):
                if q[name] is not None:
                    relation(q["id"], q[name], name.capitalize())
        for k, f in enumerate(row["flags"]):
            if f["start"] is not None:
                region(f"flag{k + 1}", f["start"], f["end"], "Flag", code=n.codes[f["code"]], note=f["note"])
        data = {"text": text, "document": row["id"]}
        whole = [{"code": n.codes[f["code"]], "note": f["note"]} for f in row["flags"] if f["start"] is None]
        if whole:  # flags about the whole document have no region: they travel with the task's data
            data["flags"] = whole
        tasks.append({"data": data,
                      "predictions": [{"model_version": f"peacetalks-{version}", "result": result}]})
    (out / "tasks.json").write_bytes(dump_json(tasks))
    (out / "labeling-config.xml").write_text(labeling_config(release), encoding="utf-8")
    return ["tasks.json", "labeling-config.xml"]


FORMATS: dict[str, Callable[[Path, Path], list[str]]] = {
    "conll": write_conll, "spacy": write_spacy, "brat": write_brat, "label-studio": write_label_studio,
    "inception": write_inception}


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
        try:
            files = FORMATS[fmt](release, tmp)
        except ExportError:
            raise
        except Exception as e:  # noqa: BLE001 - a release that verifies but cannot be read is reported
            raise ExportError(f"peacetalks export: {release}: cannot be written as {fmt} "
                              f"({type(e).__name__}: {e}); nothing was written") from None
        (tmp / MARKER).write_bytes(dump_json({
            "name": "peacetalks-export", "format": fmt, "version": manifest["version"],
            "files": {name: sha256_file(tmp / name) for name in sorted(files)}}))
        put_in_place(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
