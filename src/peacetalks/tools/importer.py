"""``peacetalks import FORMAT PATH --document ID [--force]``: a document annotated in a tool, back
into the corpus's own annotation file.

The formats are ``peacetalks export``'s: ``brat`` (standoff: PATH is the ``.ann`` file or the
folder holding ``<ID>.ann`` and ``<ID>.txt``), ``label-studio`` (Label Studio's JSON export,
or the ``tasks.json`` that ``export`` wrote: the task whose ``data.document`` is ID; its last
annotation that was not cancelled, else its first prediction) and ``inception`` (UIMA CAS
XMI: PATH is the ``.xmi`` file or the folder holding ``<ID>.xmi``; the ``TypeSystem.xml``
beside it, else the export's type system). Each is read by its own library where one exists
(dkpro-cassis for XMI), else by a strict reader of its documented grammar (brat standoff).

The import, in numbered steps (``import_document``):

1. read the tool's file into the annotation file's shape, noting where each annotation is in
   it (every line or region that does not map to the corpus's layers is a problem, never
   dropped in silence);
2. check that the tool's text is the corpus text of the document (``corpus/<ID>.txt``), and
   every label against ``schema/labels.json``;
3. keep ids: an annotation keeps the id the tool carried (the export writes them), else the id
   of the current file's annotation with the same span, else takes the next free one;
4. link mentions: a mention without an entity takes the entity of its Wikidata id, else the one
   entity whose name or alias is its text; an entity id the registry does not have, or a
   Wikidata id no entity has, is proposed as a new entity of ``annotations/entities.json``
   (named after the mention, its id made from the name);
5. keep what the format cannot carry (brat has no place for flags about the whole document)
   from the current file;
6. write the file in canonical form (as ``fmt`` writes it) and show the semantic diff against
   the current file. An existing file that would change is only overwritten with ``--force``;
   nothing is written when any problem was found.

Problems are ``path:line:col: CODE message`` at the tool's file (codes ``I001``-``I005``), the
line of the annotation's standoff line, JSON region or XMI element.
"""

from __future__ import annotations

import bisect
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from json_source_map import calculate as source_map

from ..defaults import MAX_TOOL_BYTES
from ..diagnostics.problems import Problem, errors
from ..model.labels import Labels
from ..model.layers import LAYER_TABLE, LAYERS
from ..model.schemas import Schemas
from ..reading.files import atomic_write, dump_records, read_bytes, read_text_file
from ..reading.project import Project
from .export import CUSTOM, NE, inception_typesystem
from .fmt import canonical_entities, format_document

FORMATS = ("brat", "label-studio", "inception")
_WIKIDATA = re.compile(r"(?:^|/|:)(Q[1-9]\d*)$")


class ImportRefused(Exception):
    """The import cannot start (a usage error: an unknown format, a missing document); the message says why."""


@dataclass
class Found:
    """What a tool's file holds for one document, in the annotation file's shape.

    ``records``: layer name -> items (an item's ``id`` is None where the tool carried none);
    ``where``: ``id(item)`` -> (line, column) in the tool's file; ``wikidata``: ``id(mention)``
    -> the Wikidata id the tool linked it to; ``document_flags``: whether the format carries
    flags about the whole document.
    """

    shown: str
    text: str | None = None
    records: dict[str, list[dict]] = field(default_factory=lambda: {name: [] for name in LAYERS})
    where: dict[int, tuple[int, int]] = field(default_factory=dict)
    wikidata: dict[int, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    document_flags: bool = True

    def add(self, layer: str, item: dict, line: int, column: int = 1) -> dict:
        self.records[layer].append(item)
        self.where[id(item)] = (line, column)
        return item

    def problem(self, place, code: str, message: str, hint: str | None = None) -> None:
        line, column = place if isinstance(place, tuple) else self.where.get(id(place), (1, 1))
        self.problems.append(Problem(self.shown, line, column, code, message, hint))


def _span(start: int, end: int) -> dict:
    return {"start": start, "end": end}


# ------------------------------------------------------------------ brat standoff

_T = re.compile(r"^(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)$")
_E = re.compile(r"^(E\d+)\t(\S+):(T\d+)((?: \S+:[TE]\d+)*) ?$")
_A = re.compile(r"^([AM]\d+)\t(\S+) ([TE]\d+)(?: (\S+))?$")
_R = re.compile(r"^(R\d+)\t(\S+) Arg1:([TE]\d+) Arg2:([TE]\d+)$")
_NOTE = re.compile(r"^(#\d+)\tAnnotatorNotes ([TERN]\d+)\t(.*)$")
_N = re.compile(r"^(N\d+)\tReference ([TE]\d+) ([^:\s]+):(\S+)\t?.*$")


def read_brat(path: Path, document: str, labels: Labels, project: Project) -> Found:
    """``<ID>.ann`` and ``<ID>.txt`` (see the module's docstring)."""
    ann, found, data = _tool_file(project, path, f"{document}.ann", "brat folder", document_flags=False)
    if not os.path.lexists(ann):  # (an unreadable .ann is reported with its .txt's problems)
        return found
    txt = ann.with_suffix(".txt")
    text, text_problems = (read_text_file(txt, _shown(project, txt)) if os.path.lexists(txt)
                           else (None, [Problem(_shown(project, txt), 1, 1, "I005", f"no {txt.name} beside "
                                                f"{ann.name}: brat keeps a document's text there", None)]))
    found.problems += text_problems
    if data is None or text is None:
        return found
    found.text = text
    try:
        lines = data.decode("utf-8").replace("\r\n", "\n").split("\n")  # (a file saved on Windows reads alike)
    except UnicodeDecodeError as e:
        found.problem((data[:e.start].count(b"\n") + 1, 1), "I001", "the .ann file is not UTF-8")
        return found
    event_types = {t.replace(".", "-"): t for t in labels["EventType"].names}
    mention_types = set(labels.mention_types)
    spans: dict[str, tuple[str, int, int, int]] = {}  # T id -> (type, start, end, line)
    events: dict[str, tuple[str, str, list[tuple[str, str]], int]] = {}
    attributes: list[tuple[str, str, str | None, int]] = []
    relations: list[tuple[str, str, str, int]] = []
    notes: dict[str, tuple[dict, int]] = {}
    references: list[tuple[str, str, str, int]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if m := _T.match(line):
            pieces = [tuple(map(int, p.split())) for p in m[3].split(";")]
            start, end = pieces[0][0], pieces[-1][1]
            shown_text = " ".join(text[a:b] for a, b in pieces)
            if any(a > b for a, b in pieces) or end > len(text):
                found.problem((n, 1), "I004", f"{m[1]}: offsets {m[3]} are outside the text ({len(text)} characters)")
                continue
            if shown_text != m[4]:
                found.problem((n, 1), "I004", f"{m[1]}: its text {m[4]!r} is not the text at {m[3]} ({shown_text!r})",
                              "the .txt beside the .ann is not the one it was annotated on")
                continue
            spans[m[1]] = (m[2], start, end, n)
        elif m := _E.match(line):
            args = [tuple(a.split(":", 1)) for a in m[4].split()]
            events[m[1]] = (m[2], m[3], args, n)
        elif m := _A.match(line):
            attributes.append((m[2], m[3], m[4], n))
        elif m := _R.match(line):
            relations.append((m[2], m[3], m[4], n))
        elif m := _NOTE.match(line):
            try:
                note = orjson.loads(m[3])
            except orjson.JSONDecodeError:
                note = None
            if not isinstance(note, dict) or not all(isinstance(v, str) for v in note.values()):
                found.problem((n, 1), "I004", f"{m[1]}: a note that is not peacetalks' JSON object of strings: "
                              f"{m[3][:60]!r}", "peacetalks keeps ids, entities and values in notes; write a "
                              "comment elsewhere")
                continue
            notes[m[2]] = (note, n)
        elif m := _N.match(line):
            references.append((m[3], m[2], m[4], n))
        else:
            found.problem((n, 1), "I001", f"not a line of brat standoff: {line[:60]!r}",
                          "T, E, A, M, R, N and # (AnnotatorNotes) lines, tab-separated, as brat writes them")
    items: dict[str, dict] = {}
    layer_of: dict[str, str] = {}  # T or E id -> the layer of its item
    used: set[str] = set()
    for tid, (kind, start, end, n) in spans.items():
        note = notes.get(tid, ({}, n))[0]
        if kind in mention_types:
            items[tid] = found.add("mentions", {"id": note.get("id"), **_span(start, end), "type": kind,
                                                "level": None, "entity": note.get("entity"),
                                                "value": note.get("value")}, n)
            layer_of[tid] = "mentions"
        elif kind == "Quote":
            items[tid] = found.add("quotes", {"id": note.get("id"), "kind": None, "content": _span(start, end)}, n)
            layer_of[tid] = "quotes"
        elif kind == "Flag":
            found.add("flags", {"code": note.get("code"), "note": note.get("note", ""), "span": _span(start, end)}, n)
            used.add(tid)
        elif kind not in event_types and kind != "Cue":
            found.problem((n, 1), "I003", f"{tid}: unknown annotation type {kind!r}",
                          "a mention or time type, an event type (with '-' for '.'), Quote, Cue or Flag")
            used.add(tid)
    for eid, (kind, trigger, args, n) in events.items():
        if kind not in event_types:
            found.problem((n, 1), "I003", f"{eid}: unknown event type {kind!r}")
            continue
        if trigger not in spans or spans[trigger][0] != kind:
            found.problem((n, 1), "I004", f"{eid}: its trigger {trigger} is not a {kind} span")
            continue
        used.add(trigger)
        note = notes.get(eid, ({}, n))[0]
        arguments = []
        for role, target in args:
            base = re.sub(r"\d+$", "", role)
            if base not in labels.roles:
                found.problem((n, 1), "I003", f"{eid}: unknown role {role!r}")
            elif layer_of.get(target) != "mentions":
                found.problem((n, 1), "I004", f"{eid}: its {role} {target} is not a mention")
            else:
                arguments.append((base, items[target]))
        _, start, end, _ = spans[trigger]
        items[eid] = found.add("events", {"id": note.get("id"), "trigger": _span(start, end), "type": event_types[kind],
                                          "realis": None, "modality": None, "arguments": arguments,
                                          "xdoc": note.get("xdoc")}, n)
        layer_of[eid] = "events"
    attribute_names = {"Level": ("mentions", "level"), "Realis": ("events", "realis"),
                       "Modality": ("events", "modality"), "Kind": ("quotes", "kind")}
    for name, target, value, n in attributes:
        layer, key = attribute_names.get(name, (None, None))
        item = items.get(target)
        if layer is None:
            found.problem((n, 1), "I003", f"unknown attribute {name!r}", f"one of {', '.join(attribute_names)}")
        elif layer_of.get(target) != layer:
            found.problem((n, 1), "I004", f"the attribute {name} of {target}, which is not one of the {layer}")
        else:
            item[key] = value
    cues: dict[str, dict] = {}
    for name, a, b, n in relations:
        quote = items.get(a)
        if name not in ("Speaker", "Addressee", "HasCue"):
            found.problem((n, 1), "I003", f"unknown relation {name!r}", "Speaker, Addressee or HasCue")
        elif layer_of.get(a) != "quotes":
            found.problem((n, 1), "I004", f"{name}: its Arg1 {a} is not a Quote")
        elif name == "HasCue":
            if b not in spans or spans[b][0] != "Cue":
                found.problem((n, 1), "I004", f"HasCue: its Arg2 {b} is not a Cue")
            else:
                quote["cue"] = _span(spans[b][1], spans[b][2])
                cues[b] = quote
                used.add(b)
        elif layer_of.get(b) != "mentions":
            found.problem((n, 1), "I004", f"{name}: its Arg2 {b} is not a mention")
        else:
            quote[name.lower()] = items[b]
    for tid, (kind, _, _, n) in spans.items():
        if (kind == "Cue" or kind in event_types) and tid not in used:
            found.problem((n, 1), "I004", f"{tid}: a {kind} span that no {'quote' if kind == 'Cue' else 'event'} uses",
                          "a cue needs a HasCue relation from its quote; a trigger needs its event (E) line")
    for db, target, qid, n in references:
        item = items.get(target)
        if db.lower() != "wikidata" or not _WIKIDATA.search(qid):
            found.problem((n, 1), "I004", f"a normalization to {db}:{qid}; only Wikidata ids (Wikidata:Q…) map")
        elif layer_of.get(target) != "mentions":
            found.problem((n, 1), "I004", f"a normalization of {target}, which is not a mention")
        else:
            found.wikidata[id(item)] = _WIKIDATA.search(qid)[1]
    return found


# ------------------------------------------------------------------ Label Studio


def _from_utf16(text: str):
    """A function from UTF-16 code unit offsets (JavaScript's) to code points in ``text`` (None: inside a pair)."""
    astral = [i + k for k, i in enumerate(i for i, c in enumerate(text) if ord(c) > 0xFFFF)]
    if not astral:
        return lambda j: j
    units = set(a + 1 for a in astral)
    return lambda j: None if j in units else j - bisect.bisect_left(astral, j)


#: the ids Label Studio gives the regions an annotator draws (ten random letters, digits, '_' and '-',
#: upper and lower case mixed); never a corpus id, whose letters are a prefix before a number (m12, h1)
_REGION_ID = re.compile(r"(?=.*[A-Z])(?=.*[a-z].*[a-z])[A-Za-z0-9_-]{10}")


def read_label_studio(path: Path, document: str, labels: Labels, project: Project) -> Found:
    """The task of ``document`` in a Label Studio JSON export (see the module's docstring)."""
    file, found, data = _tool_file(project, path, "tasks.json", "Label Studio export")
    if data is None:
        return found
    try:
        tasks = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        found.problem((e.lineno, e.colno), "I001", f"not JSON: {e.msg}")
        return found
    tasks = tasks if isinstance(tasks, list) else [tasks]
    index = next((i for i, t in enumerate(tasks) if isinstance(t, dict) and isinstance(t.get("data"), dict)
                  and t["data"].get("document") == document), None)
    if index is None:
        found.problem((1, 1), "I005", f"no task of document {document!r} (a task's data.document)",
                      "import the export of the project that holds the document")
        return found
    task = tasks[index]
    places = source_map(data.decode("utf-8"))

    def at(pointer: str) -> tuple[int, int]:
        entry = places.get(pointer)
        return (entry.value_start.line + 1, entry.value_start.column + 1) if entry else (1, 1)

    text = task["data"].get("text")
    if not isinstance(text, str):
        found.problem(at(f"/{index}/data"), "I001", "the task has no data.text")
        return found
    found.text = text
    annotations = task.get("annotations") if isinstance(task.get("annotations"), list) else []
    predictions = task.get("predictions") if isinstance(task.get("predictions"), list) else []
    done = [i for i, a in enumerate(annotations) if isinstance(a, dict) and not a.get("was_cancelled")]
    if done:
        chosen, source = annotations[done[-1]], f"/{index}/annotations/{done[-1]}"
    elif predictions and isinstance(predictions[0], dict):
        chosen, source = predictions[0], f"/{index}/predictions/0"
    else:
        chosen, source = {}, None
    result = chosen.get("result", [])
    if not isinstance(result, list):
        found.problem(at(f"{source}/result"), "I001", "the annotation's result is not a list")
        return found
    code_point = _from_utf16(text)
    layer_of_label = {**dict.fromkeys(labels.mention_types, "mentions"),
                      **dict.fromkeys(labels["EventType"].names, "events"),
                      "Quote": "quotes", "Cue": "cue", "Flag": "flags"}
    regions: dict[str, tuple[str, dict]] = {}  # region id -> (its layer, its item)
    cue_places: dict[str, tuple[int, int]] = {}
    later = []  # per-region attributes and relations, read once every region is known
    for k, r in enumerate(result):
        place = at(f"{source}/result/{k}")
        if not isinstance(r, dict):
            found.problem(place, "I001", "a result that is not an object")
            continue
        if r.get("type") != "labels":
            later.append((r, place))
            continue
        value = r.get("value") if isinstance(r.get("value"), dict) else {}
        names, rid = value.get("labels"), r.get("id")
        if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
            found.problem(place, "I004", f"region {rid}: labels {names!r}; peacetalks maps one label a region")
            continue
        start, end = (code_point(value.get("start")) if isinstance(value.get("start"), int) else None,
                      code_point(value.get("end")) if isinstance(value.get("end"), int) else None)
        if start is None or end is None or not 0 <= start < end <= len(text):
            found.problem(place, "I004", f"region {rid}: offsets {value.get('start')}-{value.get('end')} "
                          "are not a span of the text")
            continue
        if "text" in value and value["text"] != text[start:end]:
            found.problem(place, "I004", f"region {rid}: its text {value['text']!r} is not the text at its "
                          f"offsets ({text[start:end]!r})")
            continue
        label, layer = names[0], layer_of_label.get(names[0])
        given = None if not isinstance(rid, str) or _REGION_ID.fullmatch(rid) else rid  # (a new region's id)
        if layer is None:
            found.problem(place, "I003", f"region {rid}: unknown label {label!r}")
            continue
        if not isinstance(rid, str) or rid in regions:
            found.problem(place, "I004", f"region id {rid!r} is missing or not unique")
            continue
        item = {"mentions": lambda: {"id": given, **_span(start, end), "type": label},
                "events": lambda: {"id": given, "trigger": _span(start, end), "type": label, "arguments": []},
                "quotes": lambda: {"id": given, "content": _span(start, end)},
                "cue": lambda: _span(start, end),
                "flags": lambda: {"span": _span(start, end), "note": ""}}[layer]()
        if layer == "cue":
            cue_places[rid] = place
        else:
            found.add(layer, item, *place)
        regions[rid] = (layer, item)
    attributes = {"choices": {"level": "mentions", "realis": "events", "modality": "events", "kind": "quotes",
                              "code": "flags"},
                  "textarea": {"entity": "mentions", "value": "mentions", "xdoc": "events", "note": "flags"}}
    used = set()
    def region(key) -> tuple[str | None, dict | None]:
        return regions.get(key, (None, None)) if isinstance(key, str) else (None, None)

    for r, place in later:
        kind, name = r.get("type"), r.get("from_name")  # (any JSON value: looked up only once it is a string)
        value = r.get("value") if isinstance(r.get("value"), dict) else {}
        if isinstance(kind, str) and kind in attributes:
            layer, item = region(r.get("id"))
            given = value.get("choices" if kind == "choices" else "text")
            if not isinstance(name, str) or attributes[kind].get(name) is None:
                found.problem(place, "I004", f"a {kind} result {name!r}; peacetalks' labeling config has "
                              f"{', '.join(attributes[kind])}")
            elif layer != attributes[kind][name]:
                found.problem(place, "I004", f"{name} of region {r.get('id')}, which is not one of the "
                              f"{attributes[kind][name]}")
            elif not isinstance(given, list) or len(given) != 1 or not isinstance(given[0], str):
                found.problem(place, "I004", f"{name} of region {r.get('id')}: {given!r}; one value")
            else:
                item[name] = given[0]
            continue
        if kind != "relation":
            found.problem(place, "I004", f"a {kind!r} result; peacetalks maps labelled regions, their "
                          "attributes and relations")
            continue
        names = r.get("labels") if isinstance(r.get("labels"), list) else []
        a, b = region(r.get("from_id")), region(r.get("to_id"))
        where = f"{r.get('from_id')} -> {r.get('to_id')}"
        if len(names) != 1 or not isinstance(names[0], str):
            found.problem(place, "I004", f"a relation {where} with labels {names!r}; one label a relation")
        elif names[0] == "HasCue":
            if (a[0], b[0]) != ("quotes", "cue"):
                found.problem(place, "I004", f"HasCue {where}: not from a Quote to a Cue region")
            else:
                a[1]["cue"] = b[1]
                used.add(r.get("to_id"))
        elif names[0] in ("Speaker", "Addressee"):
            if (a[0], b[0]) != ("quotes", "mentions"):
                found.problem(place, "I004", f"{names[0]} {where}: not from a Quote to a mention")
            else:
                a[1][names[0].lower()] = b[1]
        elif names[0] in labels.roles:
            if (a[0], b[0]) != ("events", "mentions"):
                found.problem(place, "I004", f"{names[0]} {where}: not from an event to a mention")
            else:
                a[1]["arguments"].append((names[0], b[1]))
        else:
            found.problem(place, "I003", f"unknown relation {names[0]!r}", "Speaker, Addressee, HasCue or a role")
    for rid, (layer, _) in regions.items():
        if layer == "cue" and rid not in used:
            found.problem(cue_places[rid], "I004", f"region {rid}: a Cue that no quote uses",
                          "relate its quote to it (HasCue)")
    flags = task["data"].get("flags") or []
    if not isinstance(flags, list):
        found.problem(at(f"/{index}/data/flags"), "I001", "data.flags is not a list")
        flags = []
    for k, f in enumerate(flags):
        if not isinstance(f, dict):
            found.problem(at(f"/{index}/data/flags/{k}"), "I001", "a flag that is not an object")
        else:
            found.add("flags", {"code": f.get("code"), "note": f.get("note", "")}, *at(f"/{index}/data/flags/{k}"))
    return found


# ------------------------------------------------------------------ INCEpTION (UIMA CAS XMI)

_STRUCTURAL = ("uima.", "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.",
               "de.tudarmstadt.ukp.dkpro.core.api.metadata.type.", CUSTOM + "EventArgumentsLink")


def read_inception(path: Path, document: str, labels: Labels, project: Project) -> Found:
    """``<ID>.xmi`` with the ``TypeSystem.xml`` beside it (see the module's docstring)."""
    try:
        from cassis import (  # (an optional extra: this format only)
            load_cas_from_xmi,
            load_typesystem,
        )
        from lxml import etree
    except ImportError:
        raise ImportRefused("the inception format needs dkpro-cassis: pip install 'peacetalks-corpus[export]'") \
            from None
    file, found, data = _tool_file(project, path, f"{document}.xmi", "INCEpTION export")
    if data is None:
        return found
    beside = file.parent / "TypeSystem.xml"
    try:
        ts = load_typesystem(beside.read_bytes().decode("utf-8")) if beside.is_file() else inception_typesystem()
        cas = load_cas_from_xmi(data.decode("utf-8"), typesystem=ts)
        lines = {int(e.get("{http://www.omg.org/XMI}id")): e.sourceline
                 for e in etree.fromstring(data).iter() if e.get("{http://www.omg.org/XMI}id") is not None}
    except Exception as e:  # noqa: BLE001 - cassis and lxml raise many kinds on a damaged file
        line = getattr(e, "lineno", None) or getattr(getattr(e, "position", None), "__getitem__", lambda i: 1)(0)
        found.problem((line if isinstance(line, int) else 1, 1), "I001",
                      f"not UIMA CAS XMI that the type system reads ({type(e).__name__}: {e})")
        return found
    found.text = cas.sofa_string or ""
    place = lambda fs: (lines.get(fs.xmiID, 1), 1)  # noqa: E731
    mentions: dict[int, dict] = {}
    later = []
    for fs in cas.select_all_fs():
        name = fs.type.name
        if name == NE:
            item = found.add("mentions", {"id": fs.get("mentionId"), **_span(fs.begin, fs.end), "type": fs.get("value"),
                                          "level": fs.get("level"), "entity": fs.get("entity"), "value": None},
                             *place(fs))
            if fs.get("identifier"):
                qid = _WIKIDATA.search(fs.get("identifier"))
                if qid:
                    found.wikidata[id(item)] = qid[1]
                else:
                    found.problem(place(fs), "I004", f"identifier {fs.get('identifier')!r} is not a Wikidata id or URL")
            mentions[fs.xmiID] = item
        elif name == CUSTOM + "TimeExpression":
            mentions[fs.xmiID] = found.add("mentions", {"id": fs.get("mentionId"), **_span(fs.begin, fs.end),
                                                        "type": fs.get("value"), "value": fs.get("normalized")},
                                           *place(fs))
        elif name in (CUSTOM + "Event", CUSTOM + "Quote"):
            later.append(fs)
        elif name == CUSTOM + "Flag":
            found.add("flags", {"code": fs.get("code"), "note": fs.get("note") or "", "span": _span(fs.begin, fs.end)},
                      *place(fs))
        elif name == CUSTOM + "DocumentFlag":
            found.add("flags", {"code": fs.get("code"), "note": fs.get("note") or ""}, *place(fs))
        elif name == CUSTOM + "Cue" or name.startswith(_STRUCTURAL):
            continue  # (cues are read with their quotes; segmentation and metadata are INCEpTION's own)
        else:
            found.problem(place(fs), "I004", f"an annotation of layer {name}, which peacetalks does not map")
    cues = set()
    for fs in later:
        if fs.type.name == CUSTOM + "Event":
            arguments = []
            for link in (fs.get("arguments").elements if fs.get("arguments") is not None else []):
                target = getattr(link, "target", None)
                if target is None or target.xmiID not in mentions:
                    found.problem(place(fs), "I004", f"event {fs.get('eventId') or fs.xmiID}: its argument "
                                  f"{link.get('role')!r} is not a mention", "link the slot to a NamedEntity "
                                  "or TimeExpression")
                else:
                    arguments.append((link.get("role"), mentions[target.xmiID]))
            found.add("events", {"id": fs.get("eventId"), "trigger": _span(fs.begin, fs.end), "type": fs.get("value"),
                                 "realis": fs.get("realis"), "modality": fs.get("modality"), "arguments": arguments,
                                 "xdoc": fs.get("xdoc")}, *place(fs))
            continue
        quote = found.add("quotes", {"id": fs.get("quoteId"), "kind": fs.get("kind"),
                                     "content": _span(fs.begin, fs.end)}, *place(fs))
        for key in ("speaker", "addressee"):
            target = fs.get(key)
            if target is not None and target.xmiID not in mentions:
                found.problem(place(fs), "I004", f"quote {fs.get('quoteId') or fs.xmiID}: its {key} is not a mention")
            elif target is not None:
                quote[key] = mentions[target.xmiID]
        if fs.get("cue") is not None:
            quote["cue"] = _span(fs.get("cue").begin, fs.get("cue").end)
            cues.add(fs.get("cue").xmiID)
    for fs in cas.select(CUSTOM + "Cue") if CUSTOM + "Cue" in {t.name for t in ts.get_types()} else []:
        if fs.xmiID not in cues:
            found.problem(place(fs), "I004", "a Cue that no quote uses", "set it as the cue of its quote")
    return found


READERS = {"brat": read_brat, "label-studio": read_label_studio, "inception": read_inception}


# ------------------------------------------------------------------ from the tool's reading to the file


def _tool_file(project: Project, path: Path, name: str, what: str,
               document_flags: bool = True) -> tuple[Path, Found, bytes | None]:
    """The tool's file (``path`` itself, or ``name`` in the folder ``path``), its ``Found`` and its bytes
    (None: unreadable or missing, with its problem: I005 when the folder has no file of the document)."""
    file = path / name if path.is_dir() else path
    found = Found(_shown(project, file), document_flags=document_flags)
    if not os.path.lexists(file):
        found.problem((1, 1), "I005", f"no {file.name} in the {what} {file.parent}",
                      "give the folder the tool exported the document to, or the document's file itself")
        return file, found, None
    data, problems = read_bytes(file, found.shown, MAX_TOOL_BYTES)
    found.problems += problems
    return file, found, data


def _shown(project: Project, path: Path) -> str:
    try:
        return project.rel(path)
    except ValueError:
        return str(path)


def slug(name: str) -> str:
    """An entity id made from a name: ASCII, lower case, words joined by '-'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "entity"


def _check_labels(found: Found, labels: Labels) -> None:
    """Every label against its inventory (I003 at the annotation's place)."""
    inventories = {"type": None, "level": labels["MentionLevel"], "realis": labels["Realis"],
                   "modality": labels["Modality"], "kind": labels["QuoteKind"], "code": labels["FlagCode"]}
    for layer in LAYER_TABLE:
        for item in found.records[layer.name]:
            for key in layer.labels:
                value = item.get(key)
                allowed = (labels.mention_types if layer.name == "mentions" else labels["EventType"].names) \
                    if key == "type" else inventories[key].names
                if value is not None and value not in allowed:
                    found.problem(item, "I003", f"{layer.item} {item.get('id') or ''}: unknown {key} {value!r}".replace("  ", " "),
                                  f"one of {', '.join(allowed)}")
            for role, _ in item.get("arguments") or []:
                if role not in labels.roles:
                    found.problem(item, "I003", f"event {item.get('id') or ''}: unknown role {role!r}",
                                  f"one of {', '.join(labels.roles)}")


def _identity(layer: str, item: dict) -> tuple:
    """What matches an annotation of the tool with one of the current file when ids are missing."""
    if layer == "mentions":
        return item.get("start"), item.get("end")
    if layer == "events":
        return tuple((item.get("trigger") or {}).get(k) for k in ("start", "end"))
    if layer == "quotes":
        return tuple((item.get(p) or {}).get(k) for p in ("content", "cue") for k in ("start", "end"))
    return item.get("code"), *((item.get("span") or {}).get(k) for k in ("start", "end"))


def _keep_ids(found: Found, current: dict, is_id: Callable[[str], bool]) -> None:
    """Step 3: the tool's id where it is a corpus id (``is_id``: schema/common.json's Id) and unique in the layer,
    else the current file's at the same span, else the next free one (above every id of either file)."""
    for layer in LAYER_TABLE:
        if not layer.id_prefix:
            continue
        pattern = re.compile(re.escape(layer.id_prefix) + r"([1-9]\d*)")
        items = found.records[layer.name]
        before = [r for r in current.get(layer.name) or [] if isinstance(r, dict)]
        by_place: dict[tuple, list] = {}
        for r in before:
            by_place.setdefault(_identity(layer.name, r), []).append(r.get("id"))
        given = [r["id"] for r in items if isinstance(r.get("id"), str) and is_id(r["id"])]
        taken = {i for i in given if given.count(i) == 1}
        for r in items:
            if r.get("id") not in taken:
                r["id"] = None
        for r in items:
            if r["id"] is None:
                old = [i for i in by_place.get(_identity(layer.name, r), []) if isinstance(i, str) and i not in taken]
                if old:
                    r["id"] = old[0]
                    taken.add(old[0])
        numbers = [int(m[1]) for i in [*taken, *(r.get("id") for r in before)]
                   if isinstance(i, str) and (m := pattern.fullmatch(i))]
        n = max(numbers, default=0)
        for r in items:
            if r["id"] is None:
                n += 1
                r["id"] = f"{layer.id_prefix}{n}"


def _link(found: Found, labels: Labels, registry: list[dict]) -> list[dict]:
    """Step 4: each entity mention's entity, proposing new ones; returns the proposed entities."""
    known = {e.get("id"): e for e in registry if isinstance(e, dict)}
    by_wikidata = {e.get("wikidata"): e.get("id") for e in registry if isinstance(e, dict) and e.get("wikidata")}
    named: dict[str, set] = {}  # a name or alias -> the entities of that name
    for e in registry:
        if isinstance(e, dict):
            for name in [e.get("name"), *(e.get("aliases") if isinstance(e.get("aliases"), list) else [])]:
                named.setdefault(name, set()).add(e.get("id"))
    proposed: list[dict] = []
    entity_types = set(labels.entity_types)
    for m in found.records["mentions"]:
        if m.get("type") not in entity_types:
            continue
        qid = found.wikidata.get(id(m))
        shown = found.text[m["start"]:m["end"]]
        by_name = named.get(shown, set())
        entity = (m.get("entity") or (by_wikidata.get(qid) if qid else None)
                  or (next(iter(by_name)) if len(by_name) == 1 and not qid else None) or slug(shown))
        if entity not in known:
            known[entity] = {"id": entity, "name": found.text[m["start"]:m["end"]], "type": m["type"],
                             "wikidata": qid, "aliases": []}
            proposed.append(known[entity])
            if qid:
                by_wikidata[qid] = entity
        m["entity"] = entity
    return proposed


def _record(found: Found, document: str) -> dict:
    """The annotation file's record: references as ids, span texts from the text, no empty keys."""
    text = found.text

    def span(s: dict | None) -> dict | None:
        return None if s is None else {"start": s["start"], "end": s["end"], "text": text[s["start"]:s["end"]]}

    def clean(item: dict) -> dict:
        return {k: v for k, v in item.items() if v is not None}

    out = {"document": document, "flags": [], "mentions": [], "events": [], "quotes": []}
    for f in found.records["flags"]:
        out["flags"].append(clean({"code": f.get("code"), "note": f.get("note"), "span": span(f.get("span"))}))
    for m in found.records["mentions"]:
        out["mentions"].append(clean({**m, "text": text[m["start"]:m["end"]]}))
    for e in found.records["events"]:
        out["events"].append(clean({**e, "trigger": span(e["trigger"]),
                                    "arguments": [{"role": role, "mention": m["id"]} for role, m in e["arguments"]]}))
    for q in found.records["quotes"]:
        out["quotes"].append(clean({**q, "content": span(q["content"]), "cue": span(q.get("cue")),
                                    "speaker": (q.get("speaker") or {}).get("id"),
                                    "addressee": (q.get("addressee") or {}).get("id")}))
    return out


# ------------------------------------------------------------------ the semantic diff


def _describe(layer: str, r: dict) -> str:
    if layer == "mentions":
        link = f" -> {r['entity']}" if r.get("entity") else f" = {r['value']}" if r.get("value") else ""
        return f"{r.get('id')} {r.get('type')} {r.get('level') or ''} {r.get('text')!r} {r.get('start')}-{r.get('end')}" \
               f"{link}".replace("  ", " ")
    if layer == "events":
        t = r.get("trigger") or {}
        args = ", ".join(f"{a.get('role')}={a.get('mention')}" for a in r.get("arguments") or [])
        return f"{r.get('id')} {r.get('type')} {t.get('text')!r} {t.get('start')}-{t.get('end')} ({args})"
    if layer == "quotes":
        c = r.get("content") or {}
        return f"{r.get('id')} {r.get('kind')} {str(c.get('text'))[:40]!r} {c.get('start')}-{c.get('end')} " \
               f"speaker {r.get('speaker')}"
    s = r.get("span") or {}
    return f"flag {r.get('code')} " + (f"{s.get('start')}-{s.get('end')}" if s else "(the whole document)")


def semantic_diff(old: dict | None, new: dict, entities: list[dict] | None = None) -> list[str]:
    """What the import changes, one line per annotation: ``+`` added, ``-`` removed, ``~`` changed (its fields)."""
    lines = []
    for layer in LAYER_TABLE:
        def key(r):
            return r.get("id") if layer.id_prefix else _identity(layer.name, r)
        before = {key(r): r for r in (old or {}).get(layer.name) or [] if isinstance(r, dict)}
        after = {key(r): r for r in new.get(layer.name) or []}
        for k, r in after.items():
            if k not in before:
                lines.append(f"+ {layer.name}: {_describe(layer.name, r)}")
            elif before[k] != r:
                fields = [f"{f}: {before[k].get(f)!r} -> {r.get(f)!r}" for f in dict.fromkeys([*before[k], *r])
                          if before[k].get(f) != r.get(f)]
                lines.append(f"~ {layer.name}: {k if layer.id_prefix else _describe(layer.name, r)}: " + "; ".join(fields))
        lines += [f"- {layer.name}: {_describe(layer.name, r)}" for k, r in before.items() if k not in after]
    lines += [f"+ entities: {e['id']} {e['type']} {e['name']!r}" + (f" {e['wikidata']}" if e.get("wikidata") else "")
              for e in entities or []]
    return lines


# ------------------------------------------------------------------ the command


@dataclass
class Imported:
    """The outcome: ``problems`` (nothing written when any is an error), the ``diff`` lines, and
    what was written (``written``: the annotation file, and the registry when entities were proposed)."""

    path: Path
    problems: list[Problem]
    diff: list[str]
    written: list[Path]
    refused: bool = False  # the file exists, would change, and --force was not given


def _load(path: Path) -> dict | None:
    try:
        value = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def import_document(project: Project, fmt: str, source: Path, document: str, force: bool = False) -> Imported:
    """Steps 1-6 of the module's docstring."""
    if fmt not in READERS:
        raise ImportRefused(f"unknown format {fmt!r}; one of {', '.join(READERS)}")
    if not os.path.lexists(source):
        raise ImportRefused(f"no such file or folder: {source}")
    text_path = project.corpus / f"{document}.txt"
    schemas = Schemas(project.schema)
    if not schemas.is_valid_id(document) or not text_path.is_file():
        raise ImportRefused(f"document {document!r} is not in the corpus ({project.rel(text_path)}); "
                            "add its article with `peacetalks ingest --add` first")
    labels = Labels(project.schema / "labels.json")
    target = project.documents / f"{document}.json"
    # 1. the tool's reading
    found = READERS[fmt](source, document, labels, project)
    # 2. the text and the labels
    corpus_text, text_problems = read_text_file(text_path, project.rel(text_path))
    found.problems += text_problems
    if found.text is not None and corpus_text is not None:
        corpus_text = corpus_text[:-1] if corpus_text.endswith("\n") else corpus_text
        if found.text != corpus_text:
            at = next((i for i, (a, b) in enumerate(zip(found.text, corpus_text)) if a != b),
                      min(len(found.text), len(corpus_text)))
            found.problem((1, 1), "I002", f"the tool's text of {document} differs from {project.rel(text_path)} at "
                          f"character {at}: {found.text[at:at + 20]!r} against {corpus_text[at:at + 20]!r}",
                          "annotate the text that `peacetalks export` wrote; a text fix goes through seeds/ and ingest")
    _check_labels(found, labels)
    if found.text is None or errors(found.problems):
        return Imported(target, found.problems, [], [])
    current = _load(target) or {}
    # 3. ids
    _keep_ids(found, current, schemas.is_valid_id)
    # 4. entities
    registry = (_load(project.entities) or {}).get("entities") or []
    proposed = _link(found, labels, registry)
    # 5. what the format cannot carry
    record = _record(found, document)
    if not found.document_flags:
        record["flags"] += [f for f in current.get("flags") or [] if isinstance(f, dict) and "span" not in f]
    # 6. canonical form, diff, write
    data = dump_records(format_document(record, None), LAYERS)
    old = target.read_bytes() if target.is_file() else None
    diff = semantic_diff(current if old is not None else None, orjson.loads(data), proposed)
    if old == data and not proposed:
        return Imported(target, found.problems, [], [])
    if old is not None and old != data and not force:
        return Imported(target, found.problems, diff, [], refused=True)
    written = []
    if proposed:
        atomic_write(project.entities, canonical_entities({"entities": [*registry, *proposed]}))
        written.append(project.entities)
    if old != data:
        atomic_write(target, data)
        written.append(target)
    return Imported(target, found.problems, diff, written)
