"""`peacetalks fmt` (canonical form, offsets from span text) and `peacetalks locate`."""

import json
import random
import re

from conftest import DOC, locate

from peacetalks.checks.validate import validate
from peacetalks.cli import main
from peacetalks.reading.files import dump_records

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


def test_problems_point_into_the_file_as_fmt_wrote_it(project, capsys):
    """A misspelt span: after fmt moved it, it is reported where it now stands."""
    path = doc_path(project)
    data = json.loads(path.read_text("utf-8"))
    data["mentions"].append({"text": "Macronn", "type": "PER", "level": "NAM", "entity": "emmanuel-macron"})
    # last in the file as written; fmt sorts spans without offsets first
    path.write_bytes(dump_records(data, LISTS))
    assert run(project, "fmt", "--check") == 1
    err = capsys.readouterr().err
    line_before = int(re.search(r"json:(\d+):\d+: T005", err).group(1))
    assert line_before == locate(path, '"Macronn"')[0]  # --check: the file as it is
    assert run(project, "fmt") == 1
    err = capsys.readouterr().err
    line_after = int(re.search(r"json:(\d+):\d+: T005", err).group(1))
    assert line_after == locate(path, '"Macronn"')[0] != line_before  # the file as fmt wrote it


def test_a_second_span_by_text_on_a_taken_place_is_reported_with_both_ids(project, capsys):
    path = doc_path(project)
    data = json.loads(path.read_text("utf-8"))
    first = next(m for m in data["mentions"] if m.get("level") == "NAM" and m["type"] == "PER")
    text = (project.corpus / f"{DOC}.txt").read_text("utf-8")
    n = len(re.findall(r"(?<!\w)" + re.escape(first["text"]) + r"(?!\w)", text))
    data["mentions"].append({"id": "m900", "text": first["text"], "type": "PER", "level": "NAM",
                             "entity": first["entity"]})
    if text.index(first["text"]) != first["start"]:
        data["mentions"][-1]["occurrence"] = 1 + len(re.findall(r"(?<!\w)" + re.escape(first["text"]) + r"(?!\w)",
                                                                text[:first["start"]]))
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert run(project, "fmt") == 1
    err = capsys.readouterr().err
    assert "T009" in err and "m900" in err and first["id"] in err
    assert (f"it occurs {n} times" in err) if n > 1 else "annotate it once" in err
    written = json.loads(path.read_text("utf-8"))
    m900 = next(m for m in written["mentions"] if m["id"] == "m900")
    assert "start" not in m900 and "occurrence" in m900  # left for the annotator, nothing guessed
    assert locate(path, '"m900"')[0] == int(re.search(r"json:(\d+):\d+: T009", err).group(1))


def test_events_on_the_same_trigger_by_text_are_reported(project, capsys):
    path = doc_path(project)
    data = json.loads(path.read_text("utf-8"))
    event = data["events"][0]
    data["events"].append({"id": "e900", "trigger": {"text": event["trigger"]["text"]}, "type": event["type"],
                           "realis": event["realis"], "arguments": []})
    text = (project.corpus / f"{DOC}.txt").read_text("utf-8")
    if text.index(event["trigger"]["text"]) != event["trigger"]["start"]:
        return  # the first occurrence is free: nothing to report
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert run(project, "fmt") == 1
    assert "T009" in capsys.readouterr().err
