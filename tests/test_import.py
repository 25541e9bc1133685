"""tools/importer.py: tool round trips (export -> import is byte-identical for every document and
format), edits made in a tool, and every problem at its place in the tool's file."""

import json
import re
import shutil

import orjson
import pytest
from conftest import copy_checkout
from test_rule_fixtures import annotation

from peacetalks.checks.validate import validate
from peacetalks.cli import main
from peacetalks.reading.project import Project
from peacetalks.release.build import build
from peacetalks.tools.export import export
from peacetalks.tools.importer import (
    ImportRefused,
    import_document,
    semantic_diff,
    slug,
)

DOC = "zz_import"
# an astral character (two UTF-16 units) before every annotation: Label Studio's and UIMA's offsets differ
ARTICLE = ("date 2025-04-18\nMacron meets Starmer in London 🇺🇦\nFrench President Emmanuel Macron met British Prime "
           "Minister Keir Starmer in London, on Friday, at Starmer's office.\nRepresentatives of both countries "
           "attended. Moscow accused London of plotting an attack.\n“We talked about peace,” Starmer said.\n"
           "Later, Starmer thanked the French.\n")  # (its names are left for the tests to annotate)
FORMATS = ("brat", "label-studio", "inception")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The checkout plus a document with an emoji before its annotations and a flag about the whole
    document, formatted and valid; a release built from it; and the three tool exports."""
    root = tmp_path_factory.mktemp("import") / "base"
    project = copy_checkout(root)
    article = root.parent / "article.txt"
    article.write_text(ARTICLE, "utf-8")
    assert main(["--root", str(root), "ingest", "--add", str(article), "--id", DOC]) == 0
    record = annotation()
    record["document"] = DOC
    record["flags"] = [{"code": "truncated", "note": "a note about the whole document;\nwith a line break"},
                       {"code": "truncated", "note": "a span's flag", "span": {"text": "Representatives"}}]
    (project.documents / f"{DOC}.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    assert main(["--root", str(root), "fmt"]) == 0
    found = validate(project).problems
    assert [p for p in found if p.severity == "error"] == []
    release = build(project, root / "release").path
    for fmt in FORMATS:
        export(fmt, release, root / "tools" / fmt)
    return root


@pytest.fixture
def root(base, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(base, copy)
    return copy


def documents(root):
    return sorted(p.stem for p in (root / "annotations" / "documents").glob("*.json"))


def run(root, fmt, *extra, source=None):
    return main(["--root", str(root), "import", fmt, str(source or root / "tools" / fmt), "--document", *extra])


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_import_is_byte_identical_for_every_document(root, fmt, capsys):
    folder = root / "annotations" / "documents"
    before = {d: (folder / f"{d}.json").read_bytes() for d in documents(root)}
    registry = (root / "annotations" / "entities.json").read_bytes()
    for document in before:
        assert run(root, fmt, document) == 0
        assert "unchanged" in capsys.readouterr().out
    assert {d: (folder / f"{d}.json").read_bytes() for d in before} == before
    assert (root / "annotations" / "entities.json").read_bytes() == registry


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_new_document_file_is_written_whole_from_the_tool(root, fmt):
    """Without the current file, everything comes from the tool's file; only brat has no place for the
    flags about the whole document (kept from the current file when there is one)."""
    path = root / "annotations" / "documents" / f"{DOC}.json"
    original = path.read_bytes()
    path.unlink()
    assert run(root, fmt, DOC) == 0
    written = orjson.loads(path.read_bytes())
    expected = orjson.loads(original)
    if fmt == "brat":
        expected["flags"] = [f for f in expected["flags"] if "span" in f]
        assert written == expected
    else:
        assert path.read_bytes() == original


def test_an_edit_in_brat_is_shown_refused_without_force_and_written_with_it(root, capsys):
    ann = root / "tools" / "brat" / f"{DOC}.ann"
    text = (root / "tools" / "brat" / f"{DOC}.txt").read_text("utf-8")
    at = text.index("Starmer thanked")
    lines = ann.read_text("utf-8").splitlines()
    # a mention added without notes (no id, no entity: it takes the next id and the entity by alias),
    # and an existing mention's type changed
    first = next(i for i, line in enumerate(lines) if line.startswith("T") and "\tGPE " in line)
    lines[first] = lines[first].replace("\tGPE ", "\tLOC ", 1)
    lines.append(f"T900\tPER {at} {at + 7}\tStarmer")
    lines.append("A900\tLevel T900 NAM")
    ann.write_text("\n".join(lines) + "\n", "utf-8")
    target = root / "annotations" / "documents" / f"{DOC}.json"
    before = target.read_bytes()
    capsys.readouterr()
    assert run(root, "brat", DOC) == 1
    out = capsys.readouterr()
    assert target.read_bytes() == before
    assert "--force" in out.err
    ids = [m["id"] for m in orjson.loads(before)["mentions"]]
    numbered = re.compile(r"m\d+")
    new_id = "m%d" % (max(int(i[1:]) for i in ids if numbered.fullmatch(i)) + 1)
    assert f"+ mentions: {new_id} PER NAM 'Starmer' {at}-{at + 7} -> keir-starmer" in out.out
    assert re.search(r"~ mentions: \w+: type: 'GPE' -> 'LOC'", out.out), out.out
    assert run(root, "brat", DOC, "--force") == 0
    after = orjson.loads(target.read_bytes())
    added = next(m for m in after["mentions"] if m["id"] == new_id)
    assert added == {"id": new_id, "start": at, "end": at + 7, "text": "Starmer", "type": "PER", "level": "NAM",
                     "entity": "keir-starmer"}
    assert main(["--root", str(root), "fmt", "--check"]) == 0  # canonical as fmt writes it
    assert run(root, "brat", DOC) == 0  # and a second import of the same file changes nothing
    assert "unchanged" in capsys.readouterr().out


def test_an_entity_the_registry_lacks_is_proposed_by_wikidata_id_and_linked_again_by_it(root, capsys):
    """INCEpTION: a NamedEntity with only an identifier (a Wikidata URL no entity has) proposes a new
    entity; a second mention with the same identifier links to it."""
    xmi = root / "tools" / "inception" / f"{DOC}.xmi"
    data = xmi.read_text("utf-8")
    text = (root / "corpus" / f"{DOC}.txt").read_text("utf-8").rstrip("\n")
    start = len(text[:text.index("Representatives")].encode("utf-16-le")) // 2  # (UIMA counts UTF-16 units)
    extra = "".join(f'  <type:NamedEntity xmi:id="{9000 + k}" sofa="1" begin="{s}" end="{s + n}" value="PER" '
                    f'level="NOM" identifier="https://www.wikidata.org/wiki/Q99999999"/>\n'
                    for k, (s, n) in enumerate([(start, len("Representatives"))]))
    data = data.replace("  <cas:Sofa", extra + "  <cas:Sofa", 1)
    members = re.search(r'members="([^"]*)"', data)
    data = data.replace(members[0], f'members="{members[1]} 9000"')
    xmi.write_text(data, "utf-8")
    registry = root / "annotations" / "entities.json"
    assert run(root, "inception", DOC, "--force") == 0
    out = capsys.readouterr().out
    assert "+ entities: representatives PER 'Representatives' Q99999999" in out
    entity = next(e for e in orjson.loads(registry.read_bytes())["entities"] if e["id"] == "representatives")
    assert entity["wikidata"] == "Q99999999" and entity["name"] == "Representatives"
    assert main(["--root", str(root), "fmt", "--check"]) == 0
    errors = [p.render() for p in validate(Project(root)).problems if p.severity == "error"]
    assert errors == []


def test_label_studio_offsets_are_utf16_and_an_edit_there_maps_back(root):
    """A region added after the emoji, with Label Studio's (UTF-16) offsets, lands on the right
    characters; a region whose offsets fall inside a surrogate pair is refused (I004)."""
    tasks_path = root / "tools" / "label-studio" / "tasks.json"
    tasks = json.loads(tasks_path.read_text("utf-8"))
    task = next(t for t in tasks if t["data"]["document"] == DOC)
    text = task["data"]["text"]
    start = text.index("Keir Starmer")
    units = len(text[:start].encode("utf-16-le")) // 2
    assert units == start + 2  # the flag emoji is two astral characters
    result = task["predictions"][0]["result"]
    region = next(r for r in result if r.get("value", {}).get("text") == "Keir Starmer")
    # (deleted with its attributes and relations, as Label Studio deletes a region)
    result[:] = [r for r in result if region["id"] not in (r.get("id"), r.get("from_id"), r.get("to_id"))]
    # (a region drawn in Label Studio, with an id of its own)
    result.append({"id": "Xq3kT9wLzA", "type": "labels", "from_name": "label", "to_name": "text",
                   "value": {"start": units, "end": units + 12, "text": "Keir Starmer", "labels": ["PER"]}})
    result.append({"id": "Xq3kT9wLzA", "type": "choices", "from_name": "level", "to_name": "text",
                   "value": {"start": units, "end": units + 12, "text": "Keir Starmer", "choices": ["NAM"]}})
    tasks_path.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    target = root / "annotations" / "documents" / f"{DOC}.json"
    result_ = import_document(Project(root), "label-studio", tasks_path, DOC, force=True)
    assert [p for p in result_.problems] == []
    mention = next(m for m in orjson.loads(target.read_bytes())["mentions"] if m["start"] == start)
    assert mention["id"] == region["id"]  # the same span keeps its id
    assert mention["entity"] == "keir-starmer"  # by name
    # inside the pair
    at = text.index("🇺🇦")
    result.append({"id": "bad", "type": "labels", "value": {"start": at + 1, "end": at + 3, "labels": ["GPE"]}})
    tasks_path.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    before = target.read_bytes()
    got = import_document(Project(root), "label-studio", tasks_path, DOC, force=True)
    assert [p.code for p in got.problems] == ["I004"] and got.written == []
    assert target.read_bytes() == before


def problems_of(capsys):
    out = capsys.readouterr()
    return [(m[1], int(m[2]), m[4]) for m in re.finditer(r"^(\S+?):(\d+):(\d+): ([A-Z]\d{3}) ", out.out, re.M)]


@pytest.mark.parametrize("edit, code, line_of", [
    # brat: a line of no known shape; an unknown attribute; a relation of an unknown type; an argument to a
    # quote; a note that is not peacetalks'; a cue no quote uses; an event whose trigger is missing
    (lambda s: s + "T1 PER 0 6 Macron\n", "I001", "T1 PER 0 6 Macron"),
    (lambda s: s + "A999\tColour T1 red\n", "I003", "A999\tColour"),
    (lambda s: s + "R999\tFriend Arg1:T1 Arg2:T2\n", "I003", "R999\tFriend"),
    (lambda s: re.sub(r"(?m)^(E\d+\t[^:]+:T\d+) (\w+):T\d+", lambda m: m[1] + " " + m[2] + ":T9999", s, count=1),
     "I004", "E"),
    (lambda s: re.sub(r"(?m)^(#\d+\tAnnotatorNotes T1\t).*$", r"\1check this", s, count=1), "I004", "#"),
    (lambda s: re.sub(r"(?m)^R\d+\tHasCue .*\n", "", s, count=1), "I004", "T"),
    (lambda s: s + "E999\tContact-Meet:T9999\n", "I004", "E999"),
    (lambda s: s + "T999\tPER 0 6\tMacro\n", "I004", "T999"),
], ids=["grammar", "attribute", "relation", "argument", "note", "cue", "trigger", "text"])
def test_brat_problems_name_the_line_and_nothing_is_written(root, capsys, edit, code, line_of):
    ann = root / "tools" / "brat" / f"{DOC}.ann"
    edited = edit(ann.read_text("utf-8"))
    assert edited != ann.read_text("utf-8")
    ann.write_text(edited, "utf-8")
    target = root / "annotations" / "documents" / f"{DOC}.json"
    before = target.read_bytes(), (root / "annotations" / "entities.json").read_bytes()
    capsys.readouterr()
    assert run(root, "brat", DOC, "--force") == 1
    found = problems_of(capsys)
    assert any(c == code and path.endswith(f"{DOC}.ann") for path, _, c in found), found
    lines = edited.split("\n")
    assert any(c == code and lines[n - 1].startswith(line_of) for _, n, c in found), (found, line_of)
    assert (target.read_bytes(), (root / "annotations" / "entities.json").read_bytes()) == before


def test_label_studio_problems_name_the_region(root, capsys):
    tasks_path = root / "tools" / "label-studio" / "tasks.json"
    tasks = json.loads(tasks_path.read_text("utf-8"))
    task = next(t for t in tasks if t["data"]["document"] == DOC)
    result = task["predictions"][0]["result"]
    result.append({"from_id": "q1", "to_id": "nowhere", "type": "relation", "labels": ["Speaker"]})
    result.append({"from_id": "q1", "to_id": "m1", "type": "relation", "labels": ["Likes"]})
    result.append({"id": "x", "type": "rating", "value": {"rating": 4}})
    event = next(r["id"] for r in result if r.get("from_name") == "realis")
    result.append({"id": event, "type": "choices", "from_name": "level", "value": {"choices": ["NAM"]}})
    result.append({"id": event, "type": "textarea", "from_name": "comment", "value": {"text": ["?"]}})
    tasks_path.write_text(json.dumps(tasks, indent=1, ensure_ascii=False), "utf-8")
    assert run(root, "label-studio", DOC, "--force") == 1
    found = problems_of(capsys)
    lines = tasks_path.read_text("utf-8").split("\n")
    assert sorted(c for _, _, c in found) == ["I003", "I004", "I004", "I004", "I004"]
    for _, n, _ in found:  # each at its result's opening brace
        assert lines[n - 1].strip() == "{"


@pytest.mark.parametrize("bad", [
    {"id": "x", "type": [], "value": {}},  # a result's type of any JSON kind (the fuzzer's find: a list)
    {"id": "x", "type": {"a": 1}, "value": {}},
    {"id": "x", "type": 3, "value": {}},
    {"id": "x", "type": None},
    {"id": "x", "type": "choices", "from_name": ["level"], "value": {"choices": ["NAM"]}},
    {"id": ["x"], "type": "textarea", "from_name": "note", "value": {"text": "?"}},
    {"from_id": ["q1"], "to_id": {"m": 1}, "type": "relation", "labels": ["Speaker"]},
    {"from_id": "q1", "to_id": "m1", "type": "relation", "labels": {"Speaker": 1}},
    {"from_id": "q1", "to_id": "m1", "type": "relation", "labels": [["Speaker"]]},
])
def test_label_studio_results_of_any_json_kind_are_problems_not_crashes(root, capsys, bad):
    """Every field of a Label Studio result may hold any JSON value: one that is not what peacetalks maps
    is one problem (I003/I004) at the result, never a traceback, and nothing is written."""
    tasks_path = root / "tools" / "label-studio" / "tasks.json"
    tasks = json.loads(tasks_path.read_text("utf-8"))
    next(t for t in tasks if t["data"]["document"] == DOC)["predictions"][0]["result"].append(bad)
    tasks_path.write_text(json.dumps(tasks, indent=1, ensure_ascii=False), "utf-8")
    before = (root / "annotations" / "documents" / f"{DOC}.json").read_bytes()
    assert run(root, "label-studio", DOC, "--force") == 1
    found = problems_of(capsys)
    assert found and {c for _, _, c in found} <= {"I003", "I004"}
    assert (root / "annotations" / "documents" / f"{DOC}.json").read_bytes() == before


def test_a_broken_json_or_xmi_is_one_problem_at_its_place(root, capsys):
    (root / "tools" / "label-studio" / "tasks.json").write_text('[\n  {"data": {"text": "x",}}\n]\n', "utf-8")
    assert run(root, "label-studio", DOC) == 1
    assert problems_of(capsys) == [("tools/label-studio/tasks.json", 2, "I001")]
    xmi = root / "tools" / "inception" / f"{DOC}.xmi"
    xmi.write_text(xmi.read_text("utf-8").replace("type:NamedEntity", "type:NamedThing", 1), "utf-8")
    assert run(root, "inception", DOC) == 1
    assert [c for _, _, c in problems_of(capsys)] == ["I001"]


def test_the_tool_text_must_be_the_corpus_text(root, capsys):
    txt = root / "tools" / "brat" / f"{DOC}.txt"
    txt.write_text(txt.read_text("utf-8").replace("attended", "attend", 1), "utf-8")
    assert run(root, "brat", DOC) == 1
    assert "I002" in [c for _, _, c in problems_of(capsys)]


def test_a_document_missing_from_the_tool_or_the_corpus(root, capsys):
    assert run(root, "brat", DOC, source=root / "tools" / "inception") == 1
    assert [c for _, _, c in problems_of(capsys)] == ["I005"]
    assert run(root, "brat", "zz_nowhere") == 1
    assert "not in the corpus" in capsys.readouterr().err
    with pytest.raises(ImportRefused):
        import_document(Project(root), "conll", root / "tools" / "brat", DOC)
    with pytest.raises(ImportRefused):
        import_document(Project(root), "brat", root / "tools" / "nowhere", DOC)


def test_inception_structural_layers_are_ignored_and_unknown_ones_reported(root, capsys):
    xmi = root / "tools" / "inception" / f"{DOC}.xmi"
    ts = root / "tools" / "inception" / "TypeSystem.xml"
    from cassis import load_cas_from_xmi, load_typesystem
    typesystem = load_typesystem(ts.read_text("utf-8"))
    sentence = typesystem.create_type("de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Sentence",
                                      "uima.tcas.Annotation")
    other = typesystem.create_type("webanno.custom.Sentiment", "uima.tcas.Annotation")
    cas = load_cas_from_xmi(xmi.read_text("utf-8"), typesystem=typesystem)
    cas.add(sentence(begin=0, end=5))
    ts.write_text(typesystem.to_xml(), "utf-8")
    cas.to_xmi(xmi, pretty_print=True)
    assert run(root, "inception", DOC) == 0  # a Sentence is INCEpTION's own: nothing to map, nothing changes
    capsys.readouterr()
    cas.add(other(begin=0, end=5))
    cas.to_xmi(xmi, pretty_print=True)
    assert run(root, "inception", DOC) == 1
    found = problems_of(capsys)
    assert [c for _, _, c in found] == ["I004"]
    assert "Sentiment" in xmi.read_text("utf-8").split("\n")[found[0][1] - 1]


def test_semantic_diff_and_slug():
    old = {"mentions": [{"id": "m1", "start": 0, "end": 6, "text": "Macron", "type": "PER", "level": "NAM",
                         "entity": "emmanuel-macron"}], "flags": [{"code": "truncated", "note": "x"}]}
    new = {"mentions": [{"id": "m1", "start": 0, "end": 6, "text": "Macron", "type": "ORG", "level": "NAM",
                         "entity": "emmanuel-macron"},
                        {"id": "m2", "start": 7, "end": 9, "text": "he", "type": "PER", "level": "PRO",
                         "entity": "emmanuel-macron"}], "flags": []}
    assert semantic_diff(old, new) == [
        "- flags: flag truncated (the whole document)",
        "~ mentions: m1: type: 'PER' -> 'ORG'",
        "+ mentions: m2 PER PRO 'he' 7-9 -> emmanuel-macron"]
    assert slug("Élysée Palace") == "elysee-palace"
    assert slug("  ") == "entity"
