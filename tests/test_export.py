"""tools/export.py: the CoNLL export read back by a strict reader of the documented grammar and by seqeval."""

import json
import re

import pyarrow.parquet as pq
import pytest
from conftest import copy_checkout
from seqeval.metrics import classification_report, f1_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2, Entities

from peacetalks.cli import main
from peacetalks.release.build import build
from peacetalks.release.layout import parquet_path
from peacetalks.tools.export import ExportError, export, tag_names

LINE = re.compile(r"^(\S+) -X- _ ((?:[BI]-[A-Z_]+)|O)$")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkout")
    return build(copy_checkout(root), root / "rel").path


def read_conll(path):
    """The CoNLL-2003 grammar, strictly: documents opened by '-DOCSTART- -X- -X- O' and a blank line,
    sentences of 'token -X- _ TAG' lines, each ended by one blank line. Returns (document number,
    tokens, tags) per sentence."""
    lines = path.read_text("utf-8").split("\n")
    assert lines[-1] == "" and lines[-2] == ""  # the file ends with the last sentence's blank line
    sentences, doc, i = [], -1, 0
    while i < len(lines) - 1:
        if lines[i] == "-DOCSTART- -X- -X- O":
            assert lines[i + 1] == "", f"line {i + 2}: a blank line follows -DOCSTART-"
            doc, i = doc + 1, i + 2
            continue
        assert doc >= 0, "the file starts with -DOCSTART-"
        tokens, tags = [], []
        while lines[i] != "":
            m = LINE.match(lines[i])
            assert m, f"line {i + 1}: {lines[i]!r} is not 'token -X- _ TAG'"
            tokens.append(m.group(1))
            tags.append(m.group(2))
            i += 1
        assert tokens, f"line {i + 1}: an empty sentence"
        sentences.append((doc, tokens, tags))
        i += 1
    return sentences


def test_conll_holds_the_ner_config_token_for_token(release, tmp_path):
    out = export("conll", release, tmp_path / "conll")
    sentences = read_conll(out / "train.conll")
    ner = pq.read_table(release / parquet_path("ner")).to_pylist()
    names = tag_names(release)
    assert [(s[1], s[2]) for s in sentences] == [(r["tokens"], [names[t] for t in r["ner_tags"]]) for r in ner]
    documents = [r["document"] for r in ner]
    starts = [i for i, d in enumerate(documents) if i == 0 or d != documents[i - 1]]
    assert [s[0] for s in sentences] == [starts.index(max(s for s in starts if s <= i)) for i in range(len(ner))]
    marker = json.loads((out / "export.json").read_text("utf-8"))
    assert marker["format"] == "conll" and set(marker["files"]) == {"train.conll"}


def test_seqeval_reads_the_same_entities(release, tmp_path):
    """seqeval, the library CoNLL scores are computed with, finds in the file exactly the named and time
    mentions the ner config tags: valid IOB2, the same entities by type, and F1 1.0 against itself."""
    out = export("conll", release, tmp_path / "conll")
    tags = [s[2] for s in read_conll(out / "train.conll")]
    Entities(tags, IOB2)  # raises on a tag that IOB2 does not allow
    names = tag_names(release)
    ner = pq.read_table(release / parquet_path("ner")).to_pylist()
    expected = [[names[t] for t in r["ner_tags"]] for r in ner]
    assert get_entities(tags) == get_entities(expected)
    assert f1_score(tags, tags) == 1.0
    report = classification_report(tags, tags, output_dict=True, mode="strict", scheme=IOB2)
    flat = [t for s in tags for t in s]
    assert sum(v["support"] for k, v in report.items() if "avg" not in k) == sum(t.startswith("B-") for t in flat)


def test_an_export_replaces_only_its_own_folder(release, tmp_path):
    out = export("conll", release, tmp_path / "conll")
    (out / "train.conll").write_text("stale\n", "utf-8")
    export("conll", release, out)  # its own earlier output: replaced
    assert (out / "train.conll").read_text("utf-8").startswith("-DOCSTART-")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("keep me", "utf-8")
    with pytest.raises(ExportError, match="not a peacetalks export"):
        export("conll", release, notes)
    assert [p.name for p in notes.iterdir()] == ["mine.txt"]


def test_a_release_that_does_not_verify_is_not_exported(release, tmp_path):
    import shutil
    copy = tmp_path / "rel"
    shutil.copytree(release, copy)
    table = pq.read_table(copy / parquet_path("ner")).slice(1)
    pq.write_table(table, copy / parquet_path("ner"))
    with pytest.raises(ExportError, match="does not verify"):
        export("conll", copy, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_command_exports_the_project_or_a_release(project, release, tmp_path, capsys):
    assert main(["--root", str(project.root), "export", "conll", "--out", str(tmp_path / "a")]) == 0
    assert main(["export", "conll", "--release", str(release), "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "train.conll").read_bytes() == (tmp_path / "b" / "train.conll").read_bytes()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("x", "utf-8")
    capsys.readouterr()
    assert main(["--root", str(project.root), "export", "conll", "--out", str(tmp_path / "c")]) == 1
    assert "left untouched" in capsys.readouterr().err


def test_spacy_docbin_holds_texts_entities_mentions_and_sentences(release, tmp_path):
    """Read back with spaCy's own DocBin: each Doc's text is the document's, its entities are the ner
    config's tags, its sentences the ner config's rows, and every mention (nested too) is a span."""
    import spacy
    from spacy.tokens import DocBin

    out = export("spacy", release, tmp_path / "spacy")
    docs = list(DocBin().from_disk(out / "train.spacy").get_docs(spacy.blank("en").vocab))
    documents = pq.read_table(release / parquet_path("documents")).to_pylist()
    ner = pq.read_table(release / parquet_path("ner")).to_pylist()
    names, types = tag_names(release), tag_names(release, "documents", "mentions", "type")
    levels = tag_names(release, "documents", "mentions", "level")
    assert [d.user_data["document"] for d in docs] == [r["id"] for r in documents]
    for doc, row in zip(docs, documents):
        assert doc.text == row["text"]
        rows = [r for r in ner if r["document"] == row["id"]]
        sentences = [[t.text for t in s if not t.is_space] for s in doc.sents]
        assert [s for s in sentences if s] == [r["tokens"] for r in rows]
        bio = [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ != "O" else "O" for t in doc if not t.is_space]
        assert bio == [names[k] for r in rows for k in r["ner_tags"]]
        spans = list(doc.spans["mentions"])
        assert len(spans) == len(row["mentions"])
        for span, m in zip(spans, row["mentions"]):
            assert (span.id_, span.label_, span.kb_id_ or None) == (m["id"], types[m["type"]], m["entity"])
            assert span.start_char <= m["start"] and span.end_char >= m["end"]
            level = doc.user_data["mentions"][m["id"]]["level"]
            assert level == (levels[m["level"]] if m["level"] >= 0 else None)


def parse_conf(path):
    """annotation.conf: the types of each section, with an event's roles and a relation's or attribute's arguments."""
    section, out = None, {"entities": set(), "events": {}, "relations": {}, "attributes": {}}
    for line in path.read_text("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        name, _, rest = line.partition("\t")
        if section == "entities":
            out["entities"].add(name)
        else:
            args = dict(a.split(":", 1) for a in rest.split(", ")) if rest else {}
            out[section][name] = {k.rstrip("*?+"): v.split("|") for k, v in args.items()}
    return out


ANN = {"T": re.compile(r"^(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)$"),
       "E": re.compile(r"^(E\d+)\t(\S+):(T\d+)((?: \S+:T\d+)*)$"),
       "R": re.compile(r"^(R\d+)\t(\S+) Arg1:(T\d+) Arg2:(T\d+)$"),
       "A": re.compile(r"^(A\d+)\t(\S+) ([TE]\d+) (\S+)$"),
       "N": re.compile(r"^(N\d+)\tReference (T\d+) Wikidata:(Q\d+)\t(.+)$"),
       "#": re.compile(r"^(#\d+)\tAnnotatorNotes ([TE]\d+)\t(.+)$")}


def test_brat_standoff_follows_its_grammar_and_its_configuration(release, tmp_path):
    """A strict reader of brat's standoff grammar: every line well formed, every span's text the text's,
    every reference resolved, every type, role, relation and attribute value declared in the generated
    annotation.conf; and as many spans and events as the documents config holds."""
    out = export("brat", release, tmp_path / "brat")
    conf = parse_conf(out / "annotation.conf")
    assert (out / "visual.conf").is_file() and "[normalization]" in (out / "tools.conf").read_text("utf-8")
    documents = pq.read_table(release / parquet_path("documents")).to_pylist()
    entity_types = conf["entities"]
    for row in documents:
        text = (out / f"{row['id']}.txt").read_text("utf-8")
        assert text == row["text"]
        spans, kinds = {}, {"T": 0, "E": 0}
        for line in (out / f"{row['id']}.ann").read_text("utf-8").splitlines():
            m = ANN[line[0]].match(line)
            assert m, f"{row['id']}.ann: {line!r}"
            if line[0] == "T":
                tid, label, offsets, shown = m.groups()
                pieces = [tuple(map(int, f.split())) for f in offsets.split(";")]
                assert shown == " ".join(text[a:b] for a, b in pieces) and all("\n" not in text[a:b] for a, b in pieces)
                assert label in entity_types or label in conf["events"], label
                spans[tid] = label
            elif line[0] == "E":
                _, etype, trigger, args = m.groups()
                assert spans[trigger] == etype and etype in conf["events"]
                for arg in args.split():
                    role, target = arg.split(":")
                    allowed = conf["events"][etype][role.rstrip("0123456789")]
                    assert spans[target] in allowed, (etype, role, spans[target])
            elif line[0] == "R":
                _, relation, a1, a2 = m.groups()
                assert spans[a1] in conf["relations"][relation]["Arg1"] and spans[a2] in conf["relations"][relation]["Arg2"]
            elif line[0] == "A":
                _, attribute, target, value = m.groups()
                assert value in conf["attributes"][attribute]["Value"]
                assert target.startswith("E") or spans[target] in conf["attributes"][attribute]["Arg"]
            elif line[0] in "N#":
                assert m.group(2) in spans or m.group(2).startswith("E")
            kinds[line[0]] = kinds.get(line[0], 0) + 1
        flagged = sum(f["start"] is not None for f in row["flags"])
        cues = sum(q["cue_start"] is not None for q in row["quotes"])
        assert kinds["T"] == len(row["mentions"]) + len(row["events"]) + len(row["quotes"]) + cues + flagged
        assert kinds["E"] == len(row["events"])


def test_label_studio_tasks_follow_the_labeling_config(release, tmp_path):
    """A strict reader of Label Studio's import format: every region's offsets (UTF-16) cut its text out of
    the task's text, every label and relation is declared in the generated labeling config (parsed as
    XML), every relation joins two regions of its task; one region per annotation with a span."""
    import xml.etree.ElementTree as ET
    out = export("label-studio", release, tmp_path / "ls")
    config = ET.parse(out / "labeling-config.xml").getroot()
    labels = {e.get("value") for e in config.iter("Label")}
    relations = {e.get("value") for e in config.iter("Relation")}
    [text_tag] = list(config.iter("Text"))
    controls = {e.get("name"): e for e in config if e.tag in ("Choices", "TextArea")}
    for control in controls.values():
        assert set(control.get("whenLabelValue").split(",")) <= labels
    assert text_tag.get("value") == "$text" and config.find("Labels").get("toName") == text_tag.get("name")
    tasks = json.loads((out / "tasks.json").read_text("utf-8"))
    documents = pq.read_table(release / parquet_path("documents")).to_pylist()
    assert [t["data"]["document"] for t in tasks] == [d["id"] for d in documents]
    for task, row in zip(tasks, documents):
        text = task["data"]["text"]
        assert text == row["text"]
        units = text.encode("utf-16-le")
        [prediction] = task["predictions"]
        regions = {r["id"]: r for r in prediction["result"] if r["type"] == "labels"}
        for r in regions.values():
            v = r["value"]
            assert units[2 * v["start"]:2 * v["end"]].decode("utf-16-le") == v["text"]
            assert set(v["labels"]) <= labels
        for r in prediction["result"]:
            if r["type"] == "relation":
                assert r["from_id"] in regions and r["to_id"] in regions and set(r["labels"]) <= relations
            elif r["type"] != "labels":  # a per-region attribute: its control shows for its region's label
                control = controls[r["from_name"]]
                assert control.tag.lower() == r["type"] and control.get("perRegion") == "true"
                [label] = regions[r["id"]]["value"]["labels"]
                assert label in control.get("whenLabelValue").split(",")
                [given] = r["value"]["choices" if r["type"] == "choices" else "text"]
                if r["type"] == "choices":
                    assert given in {c.get("value") for c in control.iter("Choice")}
                assert (r["value"]["start"], r["value"]["end"]) == (regions[r["id"]]["value"]["start"],
                                                                    regions[r["id"]]["value"]["end"])
        cues = sum(q["cue_start"] is not None for q in row["quotes"])
        flagged = sum(f["start"] is not None for f in row["flags"])
        assert len(regions) == len(row["mentions"]) + len(row["events"]) + len(row["quotes"]) + cues + flagged


def test_label_studio_offsets_count_utf16_units():
    from peacetalks.tools.export import utf16_offsets
    text = "Kyiv 🇺🇦 and Paris"
    js = utf16_offsets(text)
    start = text.index("Paris")
    assert text.encode("utf-16-le")[2 * js(start):2 * js(start + 5)].decode("utf-16-le") == "Paris"
    assert js(start) == start + 2 and utf16_offsets("plain")(3) == 3


def test_inception_xmi_reads_back_with_cassis(release, tmp_path):
    """dkpro-cassis loads the type system and every CAS: the texts, every mention (entity mentions in
    NamedEntity with their Wikidata URL, time expressions in their layer), every event with its
    arguments as links to the mentions, every quote with its speaker and cue."""
    from cassis import load_cas_from_xmi, load_typesystem

    from peacetalks.tools.export import CUSTOM, NE
    out = export("inception", release, tmp_path / "inception")
    with (out / "TypeSystem.xml").open("rb") as f:
        ts = load_typesystem(f)
    documents = pq.read_table(release / parquet_path("documents")).to_pylist()
    entities = {r["id"]: r["wikidata"] for r in pq.read_table(release / parquet_path("entities")).to_pylist()}
    types, roles = tag_names(release, "documents", "mentions", "type"), tag_names(release, "events", "arguments", "role")
    for row in documents:
        with (out / f"{row['id']}.xmi").open("rb") as f:
            cas = load_cas_from_xmi(f, typesystem=ts)
        assert cas.sofa_string == row["text"]
        found = {a.mentionId: a for a in cas.select(NE)} | {a.mentionId: a for a in cas.select(CUSTOM + "TimeExpression")}
        assert len(found) == len(row["mentions"])
        for m in row["mentions"]:
            a = found[m["id"]]
            assert (a.begin, a.end, a.get_covered_text(), a.value) == (m["start"], m["end"], m["text"], types[m["type"]])
            if m["entity"] is not None:
                qid = entities.get(m["entity"])
                assert a.entity == m["entity"] and a.identifier == (f"https://www.wikidata.org/wiki/{qid}" if qid else None)
        events = {e.eventId: e for e in cas.select(CUSTOM + "Event")}
        assert len(events) == len(row["events"])
        for e in row["events"]:
            links = [(link.role, link.target.mentionId) for link in (events[e["id"]].arguments.elements or [])]
            assert links == [(roles[x["role"]], x["mention"]) for x in e["arguments"]]
        quotes = {q.quoteId: q for q in cas.select(CUSTOM + "Quote")}
        for q in row["quotes"]:
            got = quotes[q["id"]]
            assert (got.speaker.mentionId if got.speaker else None) == q["speaker"]
            assert (got.cue.begin if got.cue else None) == q["cue_start"]


def test_inception_layer_file_declares_the_type_system_with_the_release_inventories(release, tmp_path):
    """layers.json (INCEpTION's ExportedAnnotationLayer list) has one layer per type of TypeSystem.xml
    that holds annotations, with exactly its features, and a label feature's tag set is the
    release's inventory."""
    from cassis import load_typesystem

    from peacetalks.tools.export import CUSTOM
    out = export("inception", release, tmp_path / "inception")
    layers = json.loads((out / "layers.json").read_text("utf-8"))
    with (out / "TypeSystem.xml").open("rb") as f:
        ts = load_typesystem(f)
    declared = {t.name: t for t in ts.get_types() if not t.name.startswith("uima.")}
    assert {x["name"] for x in layers} == set(declared) - {CUSTOM + "EventArgumentsLink"}
    for layer in layers:
        own = {f.name for f in declared[layer["name"]].all_features} - {"begin", "end", "sofa"}
        assert {f["name"] for f in layer["features"]} == own, layer["name"]
        assert layer["type"] == ("document-metadata" if layer["name"].endswith("DocumentFlag") else "span")
        for f in layer["features"]:
            if f["link_mode"] == "WITH_ROLE":
                link = declared[f["link_type_name"]]
                assert {f["link_type_role_feature_name"], f["link_type_target_feature_name"]} <= \
                    {x.name for x in link.all_features}
    tags = {(x["name"], f["name"]): [t["tag_name"] for t in f["tag_set"]["tags"]]
            for x in layers for f in x["features"] if f["tag_set"]}
    assert tags[(CUSTOM + "Event", "value")] == tag_names(release, "documents", "events", "type")
    assert tags[(CUSTOM + "Event", "realis")] == tag_names(release, "documents", "events", "realis")
    assert tags[(CUSTOM + "Quote", "kind")] == tag_names(release, "documents", "quotes", "kind")
    mention_types = tag_names(release, "documents", "mentions", "type")
    ne = tags[("de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity", "value")]
    assert ne + tags[(CUSTOM + "TimeExpression", "value")] == mention_types
    assert all(t["tag_description"] for x in layers for f in x["features"] if f["tag_set"] for t in f["tag_set"]["tags"])
