"""One fixture per rule code (as sqlfluff keeps test/fixtures/rules/<CODE>.yml): every code in the
catalogue is triggered by its fixture, through the command a user would run, at the file it names.

A fixture (tests/fixtures/rules/<CODE>.json) starts from a copy of the checkout with one
synthetic, fully annotated document added (``zz_fixture``, so that no fixture depends on the
corpus's own documents), applies its steps, runs its command and expects its code there:

    {"code": "T002", "why": "...",
     "steps": [{"replace": ["annotations/documents/zz_fixture.json", "\\"Starmer\\"", "\\"Stormer\\""]}],
     "run": "validate", "path": "annotations/documents/zz_fixture.json"}

Steps: ``replace`` [path, old, new] (the first occurrence, which must exist), ``write`` [path,
text], ``write_hex`` [path, hex bytes], ``pad`` [path, n] (n spaces more), ``rehash`` [release, file] (its manifest entry
updated), ``delete`` path, ``mkdir`` path, ``export`` [format, folder]
(the base's release exported), ``json`` [path, pointer,
value] (sets one value; the file is rewritten as indented JSON). Paths under ``release/`` refer to
a release built from the base (``run: verify``, which names files relative to the release). Commands: validate, fmt-check, ingest-check,
ingest-add (the step-written ``article.txt``), import-brat, import-label-studio, import-inception
(the fixture document from the folder ``tool``), verify, build, links-online (recorded Wikidata
answers, as tests/test_links.py replays them).
"""

import hashlib
import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, copy_checkout
from test_links import Replay

from peacetalks.checks.validate import validate
from peacetalks.cli import main
from peacetalks.diagnostics.rules import RULES
from peacetalks.reading.files import dump_records
from peacetalks.tools import links

FIXTURES = ROOT / "tests" / "fixtures" / "rules"
DOC = "zz_fixture"
ARTICLE = ("date 2025-04-18\nMacron meets Starmer in London\nFrench President Emmanuel Macron met British Prime "
           "Minister Keir Starmer in London, on Friday, at Starmer's office.\nRepresentatives of both countries "
           "attended. Moscow accused London of plotting an attack.\n“We talked about peace,” Starmer said 🇺🇦.\n")
LINE = re.compile(r"^(\S[^:\n]*):(\d+):(\d+): ([A-Z]\d{3}) ", re.M)


def annotation():
    m = lambda i, text, kind, entity, occurrence=1, level="NAM": {  # noqa: E731
        "id": i, "text": text, "occurrence": occurrence, "type": kind, "level": level, "entity": entity}
    return {"document": DOC, "flags": [], "mentions": [
        m("h1", "Macron", "PER", "emmanuel-macron"), m("h2", "Starmer", "PER", "keir-starmer"),
        m("h3", "London", "GPE", "london"), m("m1", "French", "NORP", "french"),
        m("m2", "Emmanuel Macron", "PER", "emmanuel-macron"), m("m3", "British", "NORP", "british"),
        m("m4", "Keir Starmer", "PER", "keir-starmer"), m("m5", "London", "GPE", "london", 2),
        {"id": "m6", "text": "Friday", "type": "DATE", "value": "2025-04-18"},
        m("m7", "Starmer", "PER", "keir-starmer", 4), m("m8", "Starmer", "PER", "keir-starmer", 3),
        m("m9", "Moscow", "GPE", "russia"), m("m10", "London", "GPE", "united-kingdom", 3)],
        "events": [
            {"id": "e1", "trigger": {"text": "meets"}, "type": "Contact.Meet", "realis": "actual",
             "arguments": [{"role": "Participant", "mention": "h1"}, {"role": "Participant", "mention": "h2"},
                           {"role": "Place", "mention": "h3"}]},
            {"id": "e2", "trigger": {"text": "met"}, "type": "Contact.Meet", "realis": "actual",
             "arguments": [{"role": "Participant", "mention": "m2"}, {"role": "Participant", "mention": "m4"},
                           {"role": "Place", "mention": "m5"}, {"role": "Time", "mention": "m6"}]},
            {"id": "e3", "trigger": {"text": "attack"}, "type": "Conflict.Attack", "realis": "other",
             "modality": "planned", "arguments": [{"role": "Attacker", "mention": "m10"}]}],
        "quotes": [{"id": "q1", "kind": "direct", "content": {"text": "We talked about peace"},
                    "cue": {"text": "said"}, "speaker": "m7"},
                   {"id": "q2", "kind": "indirect", "content": {"text": "London of plotting an attack"},
                    "cue": {"text": "accused"}, "speaker": "m9"}]}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The checkout plus the fixture document, formatted and valid; and a release built from it."""
    root = tmp_path_factory.mktemp("rules") / "base"
    project = copy_checkout(root)
    article = root.parent / "article.txt"
    article.write_text(ARTICLE, "utf-8")
    assert main(["--root", str(root), "ingest", "--add", str(article), "--id", DOC]) == 0
    (project.documents / f"{DOC}.json").write_text(json.dumps(annotation(), ensure_ascii=False), "utf-8")
    assert main(["--root", str(root), "fmt"]) == 0
    found = validate(project).problems
    assert found == [], [p.render() for p in found]  # the base is clean: each fixture's code is its own
    assert main(["--root", str(root), "build", "--no-cache", "--out", str(root / "release")]) == 0
    return root


def fixtures():
    return sorted(FIXTURES.glob("*.json"))


def test_every_catalogued_code_has_one_fixture_and_every_fixture_a_catalogued_code():
    names = {p.stem for p in fixtures()}
    assert names == set(RULES), {"missing": sorted(set(RULES) - names), "unknown": sorted(names - set(RULES))}
    for path in fixtures():
        assert json.loads(path.read_text("utf-8"))["code"] == path.stem


def apply(root: Path, step: dict) -> None:
    (kind, arg), = step.items()
    if kind == "replace":
        path, old, new = arg
        text = (root / path).read_text("utf-8")
        assert old in text, f"fixture step: {old!r} not in {path}"
        (root / path).write_text(text.replace(old, new, 1), "utf-8")
    elif kind == "write":
        (root / arg[0]).parent.mkdir(parents=True, exist_ok=True)
        (root / arg[0]).write_text(arg[1], "utf-8")
    elif kind == "write_hex":
        (root / arg[0]).write_bytes(bytes.fromhex(arg[1]))
    elif kind == "pad":  # grow a file past a size limit without a fixture that size
        with open(root / arg[0], "a", encoding="utf-8") as f:
            f.write(" " * arg[1])
    elif kind == "rehash":  # a release file's manifest entry updated to its new bytes
        folder, name = root / arg[0], arg[1]
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        data = (folder / name).read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
    elif kind == "delete":
        target = root / arg
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    elif kind == "export":  # the base's release in a tool's format: [format, folder]
        assert main(["export", arg[0], "--release", str(root / "release"), "--out", str(root / arg[1])]) == 0
    elif kind == "mkdir":
        (root / arg).mkdir(parents=True)
    elif kind == "json":
        path, pointer, value = arg
        data = json.loads((root / path).read_text("utf-8"))
        *parents, last = [p for p in pointer.split("/")[1:]]
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        lists = ("flags", "mentions", "events", "quotes") if "documents/" in path else (
            ("entities",) if path.endswith("entities.json") else ())
        (root / path).write_bytes(dump_records(data, lists) if lists else
                                  json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
    else:
        raise AssertionError(f"unknown fixture step {kind!r}")


def run(root: Path, command: str, monkeypatch) -> int:
    r = ["--root", str(root)]
    if command == "validate":
        return main([*r, "validate", "--no-cache"])
    if command == "fmt-check":
        return main([*r, "fmt", "--check"])
    if command == "ingest-check":
        return main([*r, "ingest", "--check"])
    if command == "ingest-add":
        return main([*r, "ingest", "--add", str(root / "article.txt"), "--id", "zz_added"])
    if command == "verify":
        return main(["verify", str(root / "release")])
    if command == "build":
        return main([*r, "build", "--no-cache", "--out", str(root.parent / "out")])
    if command.startswith("import-"):  # the fixture document from the tool's folder ``tool``
        return main([*r, "import", command[len("import-"):], str(root / "tool"), "--document", DOC])
    if command == "links-online":
        handler = Replay()

        class Recorded(links.Client):
            def __init__(self):
                super().__init__(transport=httpx.MockTransport(handler), sleep=lambda s: None)
        monkeypatch.setattr(links, "Client", Recorded)
        return main([*r, "links", "--online", "--no-cache"])
    raise AssertionError(f"unknown fixture command {command!r}")


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: p.stem)
def test_the_fixture_triggers_its_code(path, base, tmp_path, capsys, monkeypatch):
    fixture = json.loads(path.read_text("utf-8"))
    root = tmp_path / "project"
    shutil.copytree(base, root)
    for step in fixture.get("steps", []):
        apply(root, step)
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache"))
    capsys.readouterr()
    code = run(root, fixture["run"], monkeypatch)
    out = capsys.readouterr()
    found = [(m.group(1), m.group(4)) for m in LINE.finditer(out.out + out.err)]
    where = fixture["path"].replace("{root}", str(root))
    assert (where, fixture["code"]) in found, (fixture["why"], found, out.out[-2000:], out.err[-2000:])
    assert code != 0 or RULES[fixture["code"]].severity == "warning"
