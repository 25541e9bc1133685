"""Consistency warnings (W001-W011) and the reviewed allow-list, on real documents made to miss things."""

import json

import pytest
from conftest import locate

from peacetalks.checks.validate import validate
from peacetalks.reading.files import dump_records

D000, D001, D002, D003 = "000_4d90cd6c48df9336", "001_2f18ed2b20c63c80", "002_10aa8657d00e2537", "003_b7bcec48b37e17cc"
LISTS = ("flags", "mentions", "events", "quotes")


def load(project, doc):
    return json.loads((project.documents / f"{doc}.json").read_text("utf-8"))


def save(project, doc, data):
    (project.documents / f"{doc}.json").write_bytes(dump_records(data, LISTS))


def drop_mention(project, doc, text, occurrence=0):
    """Remove a mention (and every argument pointing at it): the kind of miss the lints exist for."""
    data = load(project, doc)
    hits = [m for m in data["mentions"] if m["text"] == text]
    gone = hits[occurrence]
    data["mentions"].remove(gone)
    for event in data["events"]:
        event["arguments"] = [a for a in event["arguments"] if a["mention"] != gone["id"]]
    for quote in data["quotes"]:
        for key in ("speaker", "addressee"):
            if quote.get(key) == gone["id"]:
                del quote[key]
    save(project, doc, data)
    return gone


def warnings(project, code):
    return [p for p in validate(project).problems if p.code == code]


def text_position(project, doc, start):
    text = (project.corpus / f"{doc}.txt").read_text("utf-8")
    return text.count("\n", 0, start) + 1, start - (text.rfind("\n", 0, start) + 1) + 1


def test_the_released_corpus_has_no_warnings_left(project):
    result = validate(project)
    assert result.problems == [], [p.render() for p in result.problems]


def test_a_name_left_bare_in_its_own_document_is_w001(project):
    gone = drop_mention(project, D003, "Macron", occurrence=1)
    [p] = warnings(project, "W001")
    assert p.path == f"corpus/{D003}.txt"
    assert (p.line, p.column) == text_position(project, D003, gone["start"])
    assert "'Macron'" in p.message and f"[{gone['start']}, {gone['end']})" in p.hint


def test_a_name_annotated_only_in_other_documents_is_w007(project):
    gone = drop_mention(project, D001, "Kremlin")
    [p] = warnings(project, "W007")
    assert p.path == f"corpus/{D001}.txt"
    assert (p.line, p.column) == text_position(project, D001, gone["start"])
    assert "'Kremlin'" in p.message and "ORG" in p.message and "other document" in p.message


def test_one_name_with_two_types_is_w008_at_the_odd_one(project):
    data = load(project, D000)
    kremlin = [i for i, m in enumerate(data["mentions"]) if m["text"] == "Kremlin"]
    assert len(kremlin) >= 2
    data["mentions"][kremlin[0]].update(type="GPE", entity="russia")  # metonymy typed the other way
    save(project, D000, data)
    [p] = warnings(project, "W008")
    assert p.path == f"annotations/documents/{D000}.json"
    assert "'Kremlin' is GPE here but usually ORG" in p.message
    assert p.line == locate(project.documents / f"{D000}.json", '"text": "Kremlin", "type": "GPE"')[0]


def test_an_unannotated_capitalised_name_is_a_w009_candidate(project):
    gone = drop_mention(project, D001, "Abu Dhabi")
    found = [p for p in warnings(project, "W009") if "Abu Dhabi" in p.message]
    assert len(found) == 1
    assert (found[0].line, found[0].column) == text_position(project, D001, gone["start"])


def test_sentence_initial_words_and_headings_are_not_candidates(project):
    messages = [p.message for p in warnings(project, "W009")]
    assert not any("'However'" in m or "'There'" in m or "'A Peace Deal'" in m for m in messages)


def test_quoted_text_without_a_quote_is_w010(project):
    data = load(project, D002)
    data["quotes"] = [q for q in data["quotes"] if q["content"]["text"] != "outlines of a durable and lasting peace"]
    save(project, D002, data)
    [p] = warnings(project, "W010")
    assert "'outlines of a durable and lasting peace'" in p.message
    line, col = locate(project.corpus / f"{D002}.txt", "outlines of a durable")
    assert (p.line, p.column) == (line, col)


def test_a_stale_allow_entry_is_w011_and_what_it_hid_comes_back(project):
    allow = json.loads(project.allow.read_text("utf-8"))
    entry = next(e for e in allow["allow"] if e["code"] == "W010")
    entry["contains"] = "'no such text'"
    project.allow.write_bytes(dump_records(allow, ("allow",)))
    [stale] = warnings(project, "W011")
    assert stale.path == "annotations/allow.json" and "'no such text'" in stale.message
    assert stale.line == locate(project.allow, "'no such text'")[0]
    [back] = warnings(project, "W010")
    assert "'trade agreements'" in back.message


def test_the_allow_list_never_hides_an_error(project):
    data = load(project, D003)
    data["mentions"][0]["start"] += 1
    save(project, D003, data)
    allow = json.loads(project.allow.read_text("utf-8"))
    allow["allow"].append({"code": "W001", "path": None, "contains": "span", "reason": "trying to hide an error"})
    project.allow.write_bytes(dump_records(allow, ("allow",)))
    result = validate(project)
    assert [p.code for p in result.errors] == ["T002"]


def test_an_allow_entry_needs_a_reason(project):
    allow = json.loads(project.allow.read_text("utf-8"))
    del allow["allow"][0]["reason"]
    project.allow.write_bytes(dump_records(allow, ("allow",)))
    result = validate(project)
    assert any(p.code == "S002" and p.path == "annotations/allow.json" for p in result.errors)


def test_a_duplicated_quote_is_a_table_error_not_a_traceback(project):
    data = load(project, D003)
    copy = dict(data["quotes"][0], id="q999")
    data["quotes"].append(copy)
    save(project, D003, data)
    result = validate(project)
    # pandera reports every row of the duplicated key: the original and the copy
    assert {p.code for p in result.errors} == {"C001"} and len(result.errors) == 2
    assert all("another row has the same document, content_start, content_end, speaker" in p.message
               for p in result.errors)
    path = project.documents / f"{D003}.json"
    assert {p.line for p in result.errors} == {locate(path, '"id": "q1"')[0], locate(path, '"id": "q999"')[0]}


def test_bare_names_are_found_whatever_the_number_of_names(tmp_path):
    """W001 / W007 find every bare occurrence, names inside other names included, with one pass over
    each text for all the names (not every document paired with every name)."""
    import pyarrow as pa
    from conftest import ROOT

    from peacetalks.checks import lints as lints_module
    from peacetalks.checks.context import Context
    from peacetalks.model.labels import Labels
    from peacetalks.model.layers import DOCUMENT
    from peacetalks.reading.annotations import flatten, merge
    from peacetalks.reading.corpus import Document, documents_table
    from peacetalks.reading.project import Project
    texts = {"a": "Paris hosted talks. The Paris Agreement was cited in Paris.",
             "b": "Name7 Surname7 spoke; Paris Agreement stays.",
             "c": "Nothing here names anything."}
    meta = {"source": {"file": "x", "sha256": "0" * 64, "normaliser": "2.0"}, "language": "en"}
    docs = [Document(d, {**meta, "id": d}, t) for d, t in texts.items()]
    def mention(i, start, name, type_):
        return {"id": f"m{i}", "start": start, "end": start + len(name), "text": name, "type": type_, "level": "NAM",
                "entity": name.lower().replace(" ", "-"), "value": None}
    filler = [mention(100 + k, 0, f"Name{k} Surname{k}", "PER") for k in range(300)]  # names of no text here
    records = [{"document": "a", "flags": [], "events": [], "quotes": [],
                "mentions": [mention(1, 0, "Paris", "LOC"), mention(2, 24, "Paris Agreement", "MISC")]},
               {"document": "b", "flags": [], "events": [], "quotes": [],
                "mentions": [mention(1, 0, "Name7 Surname7", "PER")]},
               {"document": "c", "flags": [], "events": [], "quotes": [], "mentions": filler}]
    tables = merge([flatten(pa.array(records, DOCUMENT), documents_table(docs))], [], [])
    project = Project(tmp_path)
    ctx = Context(project, Labels(ROOT / "schema" / "labels.json"), None)
    found = sorted((p.path.rsplit("/", 1)[-1], p.code, p.message.split(" at ")[0]) for p in lints_module._bare_names(ctx, [lints_module.LintPart.of(tables)])[0])
    assert found == [("a.txt", "W001", "'Paris'"),  # the second 'Paris' in a (the one in the Agreement is covered)
                     ("b.txt", "W007", "'Paris Agreement'")]


def _with_corpus_warnings(project):
    """The corpus made to miss things of every corpus-level kind: W001, W005, W007 and W008."""
    drop_mention(project, D003, "Macron", occurrence=1)
    drop_mention(project, D001, "Kremlin")
    data = load(project, D000)
    kremlin = next(m for m in data["mentions"] if m["text"] == "Kremlin")
    kremlin.update(type="GPE", entity="russia")
    save(project, D000, data)
    registry = json.loads(project.entities.read_text("utf-8"))
    registry["entities"].append({**registry["entities"][0], "id": "unmentioned-entity", "wikidata": None})
    project.entities.write_bytes(dump_records(registry, ("entities",)))


def test_corpus_warnings_streamed_shard_by_shard_are_the_held_ones(project, monkeypatch, tmp_path):
    """``peacetalks validate`` does not hold the corpus (``keep_tables=False``): the corpus-level warnings
    count the names first, then read each shard's texts back from a spool file. Every way of running
    it (one shard per two documents, in this process or in workers, with the cache cold, warm and after
    a change) finds exactly what a validation holding every table finds, and leaves no spool behind."""
    import tempfile

    import peacetalks.checks.validate as validate_module
    _with_corpus_warnings(project)
    monkeypatch.setattr(validate_module, "SHARD_DOCS", 2)
    spools = tmp_path / "tmp"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache"))

    def problems(**kwargs):
        return [p.render() for p in validate(project, **kwargs).problems]

    held = problems()
    assert {"W001", "W005", "W007", "W008"} <= {p.split(": ")[1].split()[0] for p in held}
    streamed = validate(project, keep_tables=False).tables  # (what it holds: the documents' metadata, the registries)
    assert "text" not in streamed.documents.column_names and streamed.documents.num_rows == len(list(
        project.corpus.glob("*.txt")))
    assert streamed.mentions.num_rows == streamed.events.num_rows == 0 and streamed.entities.num_rows > 0
    for kwargs in ({}, {"jobs": 2}, {"cache": True}, {"cache": True}, {"cache": True, "jobs": 2}):
        assert problems(keep_tables=False, **kwargs) == held, kwargs
    # a cache filled by a build (no warnings): the unchanged documents' candidates are searched now
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache-of-a-build"))
    validate(project, cache=True, lints=False, keep_tables=False)
    assert problems(keep_tables=False, cache=True) == held
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache"))
    drop_mention(project, D002, load(project, D002)["mentions"][0]["text"])  # one document changes
    held = problems()
    assert problems(keep_tables=False, cache=True) == held
    (project.documents / f"{D001}.json").write_text("{", "utf-8")  # one cannot be read: no warnings of its own
    held = problems()
    assert problems(keep_tables=False, cache=True) == held == problems(keep_tables=False, jobs=2)
    assert list(spools.glob("peacetalks-*")) == []  # (multiprocessing's own folder, pymp-*, is its to remove)


def test_a_spooled_part_reads_back_what_the_warnings_read(project, tmp_path):
    from peacetalks.checks.lints import LintPart
    tables = validate(project).tables
    folder = tmp_path / "spool"
    folder.mkdir()
    held, spooled = LintPart.of(tables), LintPart.of(tables, str(folder))
    assert spooled.tables is None and len(list(folder.iterdir())) == 2
    assert spooled.linked.equals(held.linked)
    for _ in range(2):  # (each pass reads it again, mapped from its files)
        back = spooled.read()
        assert back.documents.equals(tables.documents.select(["id", "text"]))
        level = tables.mentions.column("level").to_pylist()
        assert back.mentions.column("start").to_pylist() == [
            s for s, lv in zip(tables.mentions.column("start").to_pylist(), level) if lv in ("NAM", None)]
        assert back.events.num_rows == back.quotes.num_rows == 0


def test_a_part_of_cached_records_answers_as_the_part_of_their_tables(project):
    """``LintPart.of_records`` (the cache's records as they are, flattened only where a search reads them)
    answers every question the corpus-level warnings ask as ``LintPart.of`` the same documents' tables
    does: in chunks, as the cache gathers them (slices of its segments), with documents skipped, for
    some documents, for some names."""
    import orjson
    import pyarrow as pa
    import pyarrow.compute as pc

    from peacetalks.checks.lints import LintPart
    from peacetalks.model.layers import DOCUMENT
    from peacetalks.reading.annotations import flatten
    _with_corpus_warnings(project)
    tables = validate(project).tables
    ids = tables.documents.column("id").to_pylist()
    records = pa.array([orjson.loads((project.documents / f"{d}.json").read_bytes()) for d in ids], DOCUMENT)
    cut = len(ids) // 2
    gathered = pa.chunked_array([records.slice(0, cut), records.slice(cut)])
    held = LintPart.of(tables)
    cached = LintPart.of_records(gathered, flatten(gathered, tables.documents, ()))

    def rows(frame):
        return sorted(frame.rows())

    assert sorted(cached.linked.to_pylist()) == sorted(held.linked.to_pylist())
    assert cached.documents().to_pylist() == ids
    assert cached.texts().to_pylist() == held.texts().to_pylist()
    assert rows(cached.named()) == rows(held.named()) and cached.named().height > 0
    names = held.named()
    for skip in (frozenset(), frozenset(ids[:1])):
        for documents in (None, pa.array(ids[1:3]), pa.array(ids[-1:]), pa.array([], pa.string())):
            assert rows(cached.named(skip, documents=documents)) == rows(held.named(skip, documents=documents))
        for texts in (names["text"].unique().sort().head(3).to_arrow(), pa.array(["no such name"])):
            assert rows(cached.named(skip, texts=texts)) == rows(held.named(skip, texts=texts))
    for documents in (pa.array(ids[:1]), pa.array(ids[cut - 1:cut + 1])):
        assert cached.mentions(documents).to_pylist() == held.mentions(documents).to_pylist()
    assert cached.read().mentions.to_pylist() == held.read().mentions.to_pylist()
    # only the documents asked for are flattened
    one = cached.mentions(pa.array(ids[:1]))
    assert one.num_rows and pc.all(pc.equal(one.column("document"), ids[0])).as_py()


def test_a_part_without_names_of_its_own_is_searched_for_the_corpus_names(tmp_path):
    """The texts are searched a part at a time, against the names of the whole corpus: a part whose
    documents annotate no name still gets W007 for a name annotated in another part, as the corpus
    searched at once does."""
    import pyarrow as pa
    from conftest import ROOT

    from peacetalks.checks import lints as lints_module
    from peacetalks.checks.context import Context
    from peacetalks.model.labels import Labels
    from peacetalks.model.layers import DOCUMENT
    from peacetalks.reading.annotations import flatten, merge, only
    from peacetalks.reading.corpus import Document, documents_table
    from peacetalks.reading.project import Project
    texts = {"a": "Paris hosted talks. Paris again.", "b": "In Paris, nothing was annotated."}
    meta = {"source": {"file": "x", "sha256": "0" * 64, "normaliser": "2.0"}, "language": "en"}
    mention = {"id": "m1", "start": 0, "end": 5, "text": "Paris", "type": "GPE", "level": "NAM", "entity": None,
               "value": None}
    records = [{"document": "a", "flags": [], "events": [], "quotes": [], "mentions": [mention]},
               {"document": "b", "flags": [], "events": [], "quotes": [], "mentions": []}]
    tables = merge([flatten(pa.array(records, DOCUMENT), documents_table(
        [Document(d, {**meta, "id": d}, t) for d, t in texts.items()]))], [], [])
    ctx = Context(Project(tmp_path), Labels(ROOT / "schema" / "labels.json"), None)
    whole = lints_module._bare_names(ctx, [lints_module.LintPart.of(tables)])
    parts = [lints_module.LintPart.of(only(tables, {d}), str(tmp_path)) for d in ("b", "a")]
    split = lints_module._bare_names(ctx, parts)
    assert sorted((p.path, p.code) for p in split[0]) == [("corpus/a.txt", "W001"), ("corpus/b.txt", "W007")]
    assert sorted(p.render() for p in split[0]) == sorted(p.render() for p in whole[0])
    assert split[1].same(whole[1])


@pytest.mark.parametrize("doc, name, occurrence, code", [(D003, "Macron", 1, "W001"), (D001, "Kremlin", 0, "W007")])
def test_a_drifted_text_keeps_no_earlier_bare_name_warning_in_a_cached_run(project, monkeypatch, tmp_path, doc, name,
                                                                           occurrence, code):
    """A document whose text no longer is what its seed makes gets no warnings (its offsets may be wrong);
    a cached run, which reuses the W001/W007 of unchanged documents, leaves them out too: the same
    problems as a run without the cache. (It reported the earlier ones.)"""
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache"))
    drop_mention(project, doc, name, occurrence=occurrence)
    assert code in [p.code for p in validate(project, cache=True).problems]
    seed = project.seeds / f"{doc}.txt"
    seed.write_text(seed.read_text("utf-8").replace(name, name + "'s", 1), "utf-8")  # the seed moves on
    for keep_tables in (True, False):
        cached = [p.render() for p in validate(project, cache=True, keep_tables=keep_tables).problems]
        assert "D001" in " ".join(cached)
        assert cached == [p.render() for p in validate(project).problems]


def _first_name(project, doc):
    return next(m for m in load(project, doc)["mentions"] if m.get("level") == "NAM")


def _retype(project):
    data = load(project, D002)
    mention = next(m for m in data["mentions"] if m.get("level") == "NAM" and m["type"] == "GPE")
    mention["type"] = "LOC"
    save(project, D002, data)


def _add_entity(project):
    registry = json.loads(project.entities.read_text("utf-8"))
    registry["entities"].append({**registry["entities"][0], "id": "unmentioned-entity", "wikidata": None})
    project.entities.write_bytes(dump_records(registry, ("entities",)))


def _link_nowhere(project):
    data = load(project, D000)
    next(m for m in data["mentions"] if m.get("entity"))["entity"] = "no-such-entity"  # (an error: no key)
    save(project, D000, data)


def _forget_records(project):
    for segment in project.cache_dir.glob("validated-*.arrow"):  # (the earlier versions are not kept)
        segment.unlink()
    drop_mention(project, D002, _first_name(project, D002)["text"])


CHANGES = {
    "a mention dropped": lambda project: drop_mention(project, D002, _first_name(project, D002)["text"]),
    "a mention linked to no entity": _link_nowhere,
    "the cache's records lost": _forget_records,
    "a mention retyped": _retype,
    "a file unreadable": lambda project: (project.documents / f"{D001}.json").write_text("{", "utf-8"),
    "an annotation file removed": lambda project: (project.documents / f"{D003}.json").unlink(),
    "the registry changed": _add_entity,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_names_counted_since_the_last_run_are_the_names_counted_anew(project, monkeypatch, tmp_path, change):
    """A cached run counts the corpus's names from the last run's counts, in the documents whose key
    changed only (``lints._Names.since``). After each kind of change, and after it is undone, what it
    keeps for the next run (names, counts, each document's names and warnings) is what a run with an
    empty cache counts, and so are its problems."""
    from peacetalks.checks.validate import _load_names
    from peacetalks.reading.cache import cache_path, lint_state_path
    _with_corpus_warnings(project)

    def run(cache: str):
        monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / cache))
        problems = [p.render() for p in validate(project, cache=True, keep_tables=False).problems]
        return problems, _load_names(lint_state_path(cache_path(project.cache_dir, project.schema), project.root))

    run("warm")
    before = {p: p.read_bytes() for p in (*project.documents.glob("*.json"), project.entities)}
    CHANGES[change](project)
    for step in ("changed", "undone"):
        warm, cold = run("warm"), run(f"cold-{step}")
        assert warm[0] == cold[0] == [p.render() for p in validate(project).problems]
        assert warm[1] is not None and warm[1].same(cold[1]), step
        for path, data in before.items():  # (then the change is undone)
            path.write_bytes(data)


def _break(project, doc, how):
    """A document made to fail in a way that leaves it without warnings."""
    path = project.documents / f"{doc}.json"
    if how == "json":  # level 1
        path.write_text(path.read_text("utf-8")[:-20], "utf-8")
    elif how == "schema":  # level 2
        data = load(project, doc)
        data["mentions"][0]["type"] = "PERSN"
        save(project, doc, data)
    else:  # a hand-edited text: drift from what its seed regenerates
        text = project.corpus / f"{doc}.txt"
        text.write_text(text.read_text("utf-8").replace(" ", "  ", 1), "utf-8")


@pytest.mark.parametrize("how", ["json", "schema", "drift"])
def test_allow_entries_of_a_document_without_warnings_are_not_called_stale(project, how):
    """A document that fails levels 1-2 or whose text drifted gets no warnings, so an allow-list entry that
    could concern it (one of its files, any file, the registry) is not reported as matching nothing (W011):
    the error comes first. An entry of another document's file still is."""
    allow = json.loads(project.allow.read_text("utf-8"))
    allow["allow"] = [
        {"code": "W003", "path": f"annotations/documents/{D001}.json", "contains": "no such quote", "reason": "A test entry that matches nothing."},
        {"code": "W010", "path": f"corpus/{D001}.txt", "contains": "no such text", "reason": "A test entry that matches nothing."},
        {"code": "W001", "path": None, "contains": "no such name", "reason": "A test entry that matches nothing."},
        {"code": "W005", "path": "annotations/entities.json", "contains": "no such entity", "reason": "A test entry that matches nothing."},
        {"code": "W004", "path": f"annotations/documents/{D002}.json", "contains": "no such event", "reason": "A test entry that matches nothing."},
    ]
    project.allow.write_bytes(dump_records(allow, ("allow",)))
    assert len(warnings(project, "W011")) == 5  # (none of them matches anything)
    _break(project, D001, how)
    result = validate(project)
    assert result.errors and all(D001 in p.path for p in result.errors)
    [stale] = [p for p in result.problems if p.code == "W011"]
    assert "'no such event'" in stale.message


@pytest.mark.parametrize("broken", [False, True], ids=["all documents read", "a document skipped"])
def test_an_allow_entry_that_can_never_match_says_why(project, broken):
    """An entry whose code is no warning's, or whose path is no file of the project, can never match: its
    W011 says why (with the nearest code), even while a skipped document leaves other entries unjudged."""
    allow = json.loads(project.allow.read_text("utf-8"))
    reason = "A test entry that can never match."
    allow["allow"] = [
        {"code": "W999", "path": None, "contains": "x", "reason": reason},
        {"code": "W100", "path": f"corpus/{D002}.txt", "contains": "x", "reason": reason},
        {"code": "W003", "path": "annotations/documents/no-such-document.json", "contains": "x", "reason": reason},
        {"code": "W003", "path": f"annotations/documents/{D002}.json", "contains": "x", "reason": reason},
    ]
    project.allow.write_bytes(dump_records(allow, ("allow",)))
    if broken:
        _break(project, D001, "schema")
    stale = {p.line: p for p in validate(project).problems if p.code == "W011"}
    first = [stale[locate(project.allow, f'"code": "{code}"', n)[0]] for code, n in (("W999", 0), ("W100", 0),
                                                                                      ("W003", 0))]
    assert first[0].message.endswith("W999 is not a warning code") and "peacetalks rules" in first[0].hint
    assert first[1].message.endswith("W100 is not a warning code") and "'W010'" in first[1].hint
    assert first[2].message.endswith("'annotations/documents/no-such-document.json' is no file of the project")
    assert len(stale) == 4  # (and the entry of a file that exists, which matches nothing: as before)
    assert stale[locate(project.allow, '"code": "W003"', 1)[0]].message.endswith("matches no warning")
