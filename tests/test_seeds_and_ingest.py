import hashlib
from pathlib import Path

import pytest
from conftest import ROOT

from peacetalks.checks.validate import validate
from peacetalks.model.schemas import Schemas
from peacetalks.reading.ingest import (
    IngestError,
    check_drift,
    ingest,
    normalise,
    read_checksums,
    regenerate,
    seed_id,
)


def test_seeds_match_their_checksums():
    sums = read_checksums(type("P", (), {"seeds": ROOT / "seeds"})())
    assert set(sums) == {p.name for p in (ROOT / "seeds").glob("*.txt")}
    for name, digest in sums.items():
        assert hashlib.sha256((ROOT / "seeds" / name).read_bytes()).hexdigest() == digest


def test_seeds_are_byte_identical_to_the_shared_seeds():
    shared = ROOT.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    for seed in shared.iterdir():
        assert (ROOT / "seeds" / seed.name).read_bytes() == seed.read_bytes()


def test_corpus_regenerates_from_seeds_without_drift(project):
    assert check_drift(project) == []


def test_a_hand_edit_in_corpus_is_reported_as_drift(project):
    path = project.corpus / "003_b7bcec48b37e17cc.txt"
    lines = path.read_text("utf-8").split("\n")
    lines[2] = lines[2].replace("phasing", "phrasing")
    path.write_text("\n".join(lines), "utf-8")
    problems = check_drift(project)
    assert [(p.code, p.path, p.line) for p in problems] == [("D001", "corpus/003_b7bcec48b37e17cc.txt", 3)]
    written, _ = ingest(project)
    assert written == ["corpus/003_b7bcec48b37e17cc.txt"] and check_drift(project) == []


def test_an_edited_seed_fails_its_checksum(project):
    (project.seeds / "001_2f18ed2b20c63c80.txt").write_bytes(b"changed")
    codes = [(p.code, p.path) for p in validate(project).problems if p.code == "D002"]
    assert codes == [("D002", "seeds/001_2f18ed2b20c63c80.txt")]


def test_normaliser_states_only_what_the_seed_states():
    # the seeds this test knows (seeds never change; new ones do not concern it)
    known = ("000_4d90cd6c48df9336", "001_2f18ed2b20c63c80", "002_10aa8657d00e2537", "003_b7bcec48b37e17cc")
    metas = {d: normalise((ROOT / "seeds" / f"{d}.txt").read_bytes(), f"{d}.txt").meta for d in known}
    assert metas["003_b7bcec48b37e17cc"]["date"] == "2025-04-17"
    assert metas["000_4d90cd6c48df9336"]["outlet"] == "TROIB News"
    assert metas["000_4d90cd6c48df9336"]["author"] == "Frederick R Cook"
    assert metas["001_2f18ed2b20c63c80"]["title"].startswith("Secret diplomacy")
    assert metas["002_10aa8657d00e2537"]["title"] is None  # first line is a sentence, not a headline
    assert all(m["url"] is None for m in metas.values())


def test_normaliser_text_rules():
    raw = "\ufeffHeadline here\r\n\r\n date 2025-01-02 x\r\n  Body\u00a0 text\u200b caf\u0065\u0301 .  \r\n\n\nLast line.".encode()
    record = normalise(raw, "x.txt")
    assert record.meta["title"] == "Headline here"
    assert record.text == "Headline here\ndate 2025-01-02 x\nBody text café ." + "\nLast line."
    assert record.meta["date"] is None  # a date header counts only at the very start
    dated = normalise(b"date 2025-04-17 First sentence.\n\nSecond.", "y.txt")
    assert (dated.meta["date"], dated.text) == ("2025-04-17", "First sentence.\nSecond.")


def test_normaliser_is_deterministic_and_round_trips():
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        a = normalise(seed.read_bytes(), seed.name)
        assert a == normalise(seed.read_bytes(), seed.name)
        meta = a.meta
        parts = ([f"date {meta['date']}"] if meta["date"] else [])
        parts += [a.text] + ([f"{meta['author']} for {meta['outlet']}"] if meta["outlet"] else [])
        again = normalise("\n".join(parts).encode(), seed.name)
        assert (again.text, again.meta["title"], again.meta["date"], again.meta["outlet"]) == (
            a.text, meta["title"], meta["date"], meta["outlet"])


@pytest.mark.parametrize("raw, title, text", [
    ("Headline\nBody.", "Headline", "Headline\nBody."),  # the headline is text and metadata
    ("date 2025-04-17\nHeadline\nBody.\nAnn Smith for Example News", "Headline", "Headline\nBody."),
    ("A sentence.\nBody.", None, "A sentence.\nBody."),  # a sentence is no headline
    ("Headline\nAnn Smith for Example News", "Headline", "Headline\nAnn Smith for Example News"),  # no body: no byline
    ("Only one line", None, "Only one line"),
    ("“Quoted headline?”\nBody.", None, "“Quoted headline?”\nBody."),
])
def test_the_headline_stays_the_first_paragraph_of_the_text(raw, title, text):
    record = normalise(raw.encode(), "x.txt")
    assert (record.meta["title"], record.text) == (title, text)
    assert record.meta["source"]["normaliser"] == "2.0"


@pytest.mark.parametrize("raw, code", [(b"caf\xe9 au lait", "F001"), (b"\n \n\t\n", "F010")])
def test_bad_seeds_are_refused_with_a_problem(raw, code):
    with pytest.raises(IngestError) as e:
        normalise(raw, "bad.txt")
    assert e.value.problem.code == code


@pytest.mark.parametrize("name", ["..x.txt", "a..b.txt", "-x.txt", ".x.txt", "x y.txt", "é.txt", "a" * 129 + ".txt"])
def test_unsafe_seed_names_are_refused(project, name):
    """A seed's name gives its document id: one that is not a safe id (schema/common.json's, the one rule) is
    F007, whether the seed is added or found in seeds/ (the others are still regenerated)."""
    with pytest.raises(IngestError) as e:
        seed_id(Schemas(project.schema), name, name)
    assert e.value.problem.code == "F007"
    (project.seeds / name).write_bytes(b"Headline\nSome text.\n")
    expected, problems = regenerate(project)
    assert [(p.code, p.path) for p in problems] == [("F007", f"seeds/{name}")]
    assert problems[0].hint.startswith("rename the seed:") and "--id" not in problems[0].hint  # (no option there)
    assert expected and not any(n.startswith(name.removesuffix(".txt") + ".") for n in expected)


@pytest.mark.parametrize("chosen", ["../x", "a..b", "-x", "x y", "", "a" * 129])
def test_an_unsafe_id_given_with_add_is_said_to_be_the_given_id(project, tmp_path, capsys, chosen):
    """``ingest --add --id``: an unsafe id is the option's fault, not the seed's name (F007 names --id and
    asks for another id); nothing is written."""
    from peacetalks.cli import main
    article = tmp_path / "fine-name.txt"
    article.write_bytes((Path(__file__).parent / "data" / "example-article.txt").read_bytes())
    before = sorted(p.name for p in project.seeds.iterdir())
    assert main(["--root", str(project.root), "ingest", "--add", str(article), f"--id={chosen}"]) == 1
    err = capsys.readouterr().err
    assert f"F007 --id {chosen!r} is not a safe document id" in err and "choose another id with --id" in err
    assert "rename the seed" not in err
    assert sorted(p.name for p in project.seeds.iterdir()) == before


@pytest.mark.parametrize("name", ["x y.txt", "a..b.txt", "-x.txt"])
def test_a_seed_whose_name_is_no_id_is_added_under_a_given_id(project, tmp_path, capsys, name):
    """Without --id an unsafe file name is F007 with a hint to rename it or give --id; with a safe --id the
    same article is added under that id."""
    from peacetalks.cli import main
    article = tmp_path / name
    article.write_bytes((Path(__file__).parent / "data" / "example-article.txt").read_bytes())
    root = ["--root", str(project.root)]
    assert main([*root, "ingest", "--add", str(article)]) == 1
    err = capsys.readouterr().err
    assert "F007 seed name" in err and "rename the seed, or give its id with --id" in err
    assert main([*root, "ingest", "--add", str(article), "--id", "given-1"]) == 0
    assert (project.seeds / "given-1.txt").read_bytes() == article.read_bytes()


def test_adding_a_seed_refuses_bad_input_and_writes_nothing(project, capsys):
    from peacetalks.cli import main
    article = Path(__file__).parent / "data" / "example-article.txt"
    before = sorted(p.name for p in project.seeds.iterdir())
    root = ["--root", str(project.root)]
    assert main([*root, "ingest", "--add", str(article), "--id", "x1", "--date", "2025-04-19"]) == 1
    assert "D003 date '2025-04-19' contradicts the seed, which states '2025-04-18'" in capsys.readouterr().err
    assert main([*root, "ingest", "--add", str(article), "--id", "x1", "--url", "ftp://nope"]) == 1
    assert "is not an http(s) URL" in capsys.readouterr().err
    assert main([*root, "ingest", "--add", str(article), "--id", "../x"]) == 1
    assert "F007" in capsys.readouterr().err
    assert main([*root, "ingest", "--add", str(article), "--id", "000_4d90cd6c48df9336"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main([*root, "ingest", "--add", str(project.root / "missing.txt")]) == 1
    assert sorted(p.name for p in project.seeds.iterdir()) == before
    assert main([*root, "ingest", "--add", str(article), "--id", "x1"]) == 0
    assert main([*root, "ingest", "--check"]) == 0
    assert main([*root, "validate"]) == 0
