"""`peacetalks fmt` (canonical form, offsets from span text) and `peacetalks locate`."""

import json
import random
import re

from peacetalks.cli import main
from peacetalks.validate import validate

from conftest import DOC, locate

LISTS = ("flags", "mentions", "events", "quotes")


def doc_path(project):
    return project.documents / f"{DOC}.json"


def run(project, *args):
    return main(["--root", str(project.root), *args])


def test_the_repository_is_canonical(project, capsys):
    assert run(project, "fmt", "--check") == 0
    assert "0 files would be reformatted" in capsys.readouterr().out


def test_a_scrambled_file_is_restored_byte_for_byte(project, capsys):
    path = doc_path(project)
    canonical = path.read_bytes()
    data = json.loads(canonical)
    rng = random.Random(3)
    for key in LISTS:
        rng.shuffle(data[key])
    data["mentions"] = [dict(reversed(list(m.items()))) for m in data["mentions"]]
    scrambled = ("\ufeff" + json.dumps(data, ensure_ascii=False, indent=3)).replace("\n", "\r\n").encode("utf-8")
    path.write_bytes(scrambled)
    assert run(project, "fmt", "--check") == 1
    out = capsys.readouterr().out
    assert f"would reformat annotations/documents/{DOC}.json" in out and "+++ b/annotations/documents/" in out
    assert path.read_bytes() == scrambled  # --check writes nothing
    assert run(project, "fmt") == 0
    assert path.read_bytes() == canonical
    assert run(project, "fmt", "--check") == 0


def test_spans_written_by_text_get_their_offsets_and_ids(project):
    path = doc_path(project)
    data = json.loads(path.read_text("utf-8"))
    macrons = [m for m in data["mentions"] if m["text"] == "Macron"]
    second = macrons[1]
    data["mentions"].remove(second)
    text = (project.corpus / f"{DOC}.txt").read_text("utf-8")
    occurrence = [m.start() for m in re.finditer(r"(?<!\w)Macron(?!\w)", text)].index(second["start"]) + 1
    data["mentions"].append({"text": "Macron", "occurrence": occurrence, "type": "PER", "level": "NAM",
                             "entity": "emmanuel-macron"})
    for event in data["events"]:
        for arg in event["arguments"]:
            if arg["mention"] == second["id"]:
                arg["mention"] = "PLACEHOLDER"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    before = validate(project)  # before fmt: the missing offsets are explained, with the fix
    hints = [p.hint for p in before.errors if p.code == "S002"]
    assert hints and all("peacetalks fmt" in h for h in hints)

    assert run(project, "fmt") == 0
    data = json.loads(path.read_text("utf-8"))
    [added] = [m for m in data["mentions"] if m["start"] == second["start"]]
    assert (added["end"], added["text"]) == (second["end"], "Macron")
    n = max(int(m["id"][1:]) for m in data["mentions"] if m is not added)
    assert added["id"] == f"m{n + 1}"
    assert list(added) == ["id", "start", "end", "text", "type", "level", "entity"]


def test_a_span_text_that_does_not_occur_is_t005_and_nothing_is_written(project, capsys):
    path = doc_path(project)
    data = json.loads(path.read_text("utf-8"))
    data["mentions"].append({"text": "Macron", "occurrence": 99, "type": "PER", "level": "NAM",
                             "entity": "emmanuel-macron"})
    data["events"][0]["trigger"] = {"text": "hostd"}
    original = json.dumps(data, ensure_ascii=False, indent=1)
    path.write_text(original, "utf-8")
    assert run(project, "fmt", "--check") == 1
    err = capsys.readouterr().err
    assert "T005 span text 'Macron' (occurrence 99) does not occur" in err and "give 'occurrence' between 1 and" in err
    assert err.count(": T005 ") == 2 and "span text 'hostd' (occurrence 1)" in err
    trigger_line = locate(path, '"hostd"')[0]
    assert any(f"annotations/documents/{DOC}.json:{n}:" in err for n in (trigger_line - 1, trigger_line))
    assert path.read_text("utf-8") == original


def test_invalid_json_is_reported_and_left_alone(project, capsys):
    path = doc_path(project)
    broken = path.read_text("utf-8").replace('"document":', '"document"', 1)
    path.write_text(broken, "utf-8")
    assert run(project, "fmt") == 1
    assert "F004 invalid JSON, not formatted" in capsys.readouterr().err
    assert path.read_text("utf-8") == broken


def test_locate_prints_offsets_and_context(project, capsys):
    assert run(project, "locate", DOC, "Witkoff") == 0
    out = capsys.readouterr().out
    text = (project.corpus / f"{DOC}.txt").read_text("utf-8")
    start = text.index("Witkoff")
    assert f"[{start}, {start + 7}) occurrence 1" in out and "[Witkoff]" in out and "more; --all lists them" in out
    assert run(project, "locate", DOC, "Witkoff", "--all") == 0
    assert capsys.readouterr().out.count("occurrence") == text.count("Witkoff")
    assert run(project, "locate", DOC, "no such words here") == 1
    assert run(project, "locate", "nope", "x") == 2
