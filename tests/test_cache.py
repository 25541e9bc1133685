"""The content-hash cache: same answers as a cold run, and a changed document is always re-checked."""

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import DOC, locate

import peacetalks.reading.annotations as annotations_module
from peacetalks.checks.validate import validate
from peacetalks.reading.cache import Cache, NewEntries, cache_path
from peacetalks.reading.files import dump_records


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(folder))
    return folder


def snapshot(result):
    t = result.tables
    return ([p.render() for p in result.problems],
            {name: getattr(t, name).sort_by([("document", "ascending"), ("index", "ascending")]).to_pylist()
             for name in ("mentions", "events", "quotes", "flags")})


def count_parses(monkeypatch):
    calls = []
    real = annotations_module.read_json_file

    def counting(path, shown, data=None, **options):
        calls.append(Path(path).name)
        return real(path, shown, data, **options)

    monkeypatch.setattr(annotations_module, "read_json_file", counting)
    return calls


def test_a_warm_run_gives_the_cold_answer_without_parsing_unchanged_documents(project, cache_dir, monkeypatch):
    cold = validate(project)
    first = validate(project, cache=True)
    assert list(cache_dir.glob("validated-*.arrow"))
    calls = count_parses(monkeypatch)
    warm = validate(project, cache=True)
    assert snapshot(warm) == snapshot(first) == snapshot(cold)
    assert "entities.json" in calls  # the registries are read every time ...
    assert [c for c in calls if c[:3].isdigit()] == []  # ... but no unchanged document file is parsed again


def test_a_changed_document_is_rechecked(project, cache_dir, monkeypatch):
    validate(project, cache=True)
    path = project.documents / f"{DOC}.json"
    path.write_text(path.read_text("utf-8").replace('"id": "m2", "start": 17, "end": 32',
                                                    '"id": "m2", "start": 18, "end": 33'), "utf-8")
    calls = count_parses(monkeypatch)
    result = validate(project, cache=True)
    assert calls.count(path.name) == 1
    [p] = result.errors
    assert p.code == "T002" and (p.line, p.column)[0] == locate(path, '"id": "m2"')[0]
    # and it stays re-checked until fixed: a failing document is never cached
    assert [e.code for e in validate(project, cache=True).errors] == ["T002"]


def test_corpus_level_checks_always_run(project, cache_dir):
    validate(project, cache=True)
    registry = json.loads(project.entities.read_text("utf-8"))
    registry["entities"] = [e for e in registry["entities"] if e["id"] != "paris"]
    project.entities.write_bytes(dump_records(registry, ("entities",)))
    result = validate(project, cache=True)
    assert result.errors and {p.code for p in result.errors} == {"R002"}


def test_a_corrupt_or_unwritable_cache_is_ignored(project, cache_dir, tmp_path, monkeypatch):
    cold = validate(project)
    validate(project, cache=True)
    for f in cache_dir.glob("*.arrow"):
        f.write_bytes(b"not arrow at all")
    assert snapshot(validate(project, cache=True)) == snapshot(cold)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert snapshot(validate(project, cache=True)) == snapshot(cold)


def test_candidate_warnings_of_unchanged_documents_come_from_the_cache(project, cache_dir, monkeypatch):
    import peacetalks.checks.lints as lints_module
    other = project.documents / "001_2f18ed2b20c63c80.json"
    data = json.loads(other.read_text("utf-8"))
    data["mentions"], data["events"], data["quotes"] = [], [], []  # its names become candidates
    other.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    cold = validate(project)
    assert sum(p.code == "W009" for p in cold.problems) > 5
    searched = []
    real = lints_module._candidates
    monkeypatch.setattr(lints_module, "_candidates",
                        lambda ctx, tables: searched.append(tables.documents.num_rows) or real(ctx, tables))
    n = cold.tables.documents.num_rows  # the corpus, whatever its size
    assert snapshot(validate(project, cache=True)) == snapshot(cold)
    assert sum(searched) == n
    assert snapshot(validate(project, cache=True)) == snapshot(cold)
    assert sum(searched) == n  # nothing changed: every document's candidates came from the cache
    # a build (no warnings) caches no candidates over the searched ones
    validate(project, cache=True, lints=False)
    assert snapshot(validate(project, cache=True)) == snapshot(cold)
    assert sum(searched) == n
    # one document changes: only it is searched again, and the answer is the cold one
    data["flags"] = [{"code": "inserted-material", "note": "A test change."}]
    other.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    warm = validate(project, cache=True)
    assert sum(searched) == n + 1
    assert snapshot(warm) == snapshot(validate(project))


def test_guideline_warnings_of_unchanged_documents_come_from_the_cache(project, cache_dir, monkeypatch):
    import peacetalks.checks.guideline_lints as gl
    doc = project.documents / f"{DOC}.json"
    data = json.loads(doc.read_text("utf-8"))
    sunday = next(m for m in data["mentions"] if m["text"] == "Sunday")
    sunday["value"] = "2025-04-14"  # a Monday: W014, in the annotation file
    doc.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    cold = validate(project)
    assert [p.code for p in cold.problems] == ["W014"]
    checked = []
    real = gl.check
    monkeypatch.setattr(gl, "check", lambda ctx, tables: checked.append(tables.documents.num_rows) or real(ctx, tables))
    assert snapshot(validate(project, cache=True)) == snapshot(cold)
    before = sum(checked)
    assert snapshot(validate(project, cache=True)) == snapshot(cold)  # all from the cache, the path kept
    assert sum(checked) == before
    other = project.documents / "001_2f18ed2b20c63c80.json"
    other_data = json.loads(other.read_text("utf-8"))
    other_data["flags"] = [{"code": "inserted-material", "note": "A test change."}]
    other.write_bytes(dump_records(other_data, ("flags", "mentions", "events", "quotes")))
    warm = validate(project, cache=True)
    assert sum(checked) == before + 1 and snapshot(warm) == snapshot(validate(project))


def test_a_one_document_change_appends_a_small_segment(project, cache_dir):
    """A warm run writes only what it checked; the cache is compacted once most of it is stale."""
    from peacetalks.defaults import MAX_SEGMENTS
    validate(project, cache=True)
    [first] = list(cache_dir.glob("validated-*.arrow"))
    path = project.documents / f"{DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    for n in range(MAX_SEGMENTS + 2):
        data["flags"] = [{"code": "inserted-material", "note": f"A test change {n}."}]
        path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
        warm = validate(project, cache=True)
        assert snapshot(warm) == snapshot(validate(project))
        segments = sorted(cache_dir.glob("validated-*.arrow"))
        if n == 0:
            assert first in segments and len(segments) == 2  # the old one kept, one small one added
            assert segments[-1].stat().st_size < first.stat().st_size
        assert len(segments) < MAX_SEGMENTS  # compacted before there are too many


def test_small_segments_are_merged_and_the_base_is_left_alone(project, cache_dir, monkeypatch):
    """Once the segments are MAX_SEGMENTS, the small ones after the base are merged into one: the base
    (the whole corpus's entries) is not rewritten, and every run still gives a cold run's result."""
    import peacetalks.reading.cache as cache_module
    monkeypatch.setattr(cache_module, "MAX_SEGMENTS", 4)
    validate(project, cache=True)
    [base] = list(cache_dir.glob("validated-*.arrow"))
    written = (base.stat().st_ino, base.stat().st_mtime_ns)
    path = project.documents / f"{DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    counts = []
    for n in range(8):
        data["flags"] = [{"code": "inserted-material", "note": f"A test change {n}."}]
        path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
        warm = validate(project, cache=True)
        assert snapshot(warm) == snapshot(validate(project))
        segments = sorted(cache_dir.glob("validated-*.arrow"))
        counts.append(len(segments))
        assert base in segments and (base.stat().st_ino, base.stat().st_mtime_ns) == written
        assert len(segments) < 4
    assert counts[:4] == [2, 3, 2, 3]  # one added per run; at the limit, the two small ones merged with it
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))  # (nothing changed: all cached)


def test_a_cache_scattered_over_many_runs_is_compacted(project, cache_dir, monkeypatch):
    """Each document changed since the last compaction splits the cache's unchanged entries into one
    more run of rows (taken out on its own by a re-check): past MAX_CACHE_RUNS, the cache is compacted."""
    import peacetalks.reading.cache as cache_module
    monkeypatch.setattr(cache_module, "MAX_CACHE_RUNS", 2)
    validate(project, cache=True)
    documents = sorted(project.documents.glob("*.json"))
    _change(documents[len(documents) // 2], "A change in the middle.")  # runs: before it, after it, and itself
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))
    assert len(list(cache_dir.glob("validated-*.arrow"))) == 1
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))


def test_a_cache_mostly_stale_is_compacted_into_one_segment(project, cache_dir, monkeypatch):
    """When more than half the cached rows are stale, the live ones are written as one segment."""
    import peacetalks.reading.cache as cache_module
    monkeypatch.setattr(cache_module, "MAX_CACHE_RUNS", 10**9)  # (only staleness compacts here, however large
    validate(project, cache=True)  # the corpus)
    documents = sorted(project.documents.glob("*.json"))
    for round in range(2):  # every document changed: half the rows stale after the first round, two
        for n, path in enumerate(documents):  # thirds after the second
            data = json.loads(path.read_text("utf-8"))
            data["flags"] = [{"code": "inserted-material", "note": f"A test change {round}.{n}."}]
            path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
        warm = validate(project, cache=True)
        assert snapshot(warm) == snapshot(validate(project))
        assert len(list(cache_dir.glob("validated-*.arrow"))) == (2 if round == 0 else 1)
    assert snapshot(validate(project, cache=True)) == snapshot(warm)


def test_a_registry_change_rechecks_unchanged_documents(project, cache_dir):
    """A cached document passed its references against the registries of its run: when they change,
    it is checked again, and an entity it names that left the registry is reported."""
    validate(project, cache=True)
    registry = json.loads(project.entities.read_text("utf-8"))
    gone = registry["entities"].pop(next(i for i, e in enumerate(registry["entities"]) if e["id"] == "paris"))
    assert gone["id"] == "paris"
    project.entities.write_text(json.dumps(registry, ensure_ascii=False, indent=2) + "\n", "utf-8")
    warm = validate(project, cache=True)
    assert snapshot(warm) == snapshot(validate(project))
    assert any(p.code == "R002" and "'paris'" in p.message for p in warm.errors)


def count_reads(monkeypatch):
    """The corpus and annotation files read (their bytes), by name."""
    import peacetalks.checks.shards as shards_module
    import peacetalks.reading.corpus as corpus_module
    calls = []
    for module in (shards_module, corpus_module):
        real = module.read_bytes

        def counting(path, shown, limit, stamps=None, real=real):
            calls.append(Path(path).name)
            return real(path, shown, limit, stamps)

        monkeypatch.setattr(module, "read_bytes", counting)
    return calls


@pytest.fixture
def no_racy_window(monkeypatch):
    """Files written a moment ago are indexed too (in use, the index leaves out files changed in the
    two seconds before it is written, which a test's freshly copied files all are)."""
    import peacetalks.reading.cache as cache_module
    monkeypatch.setattr(cache_module, "RACY_NS", 0)


def test_the_stat_index_spares_reading_unchanged_files(project, cache_dir, monkeypatch, no_racy_window):
    cold = validate(project)
    validate(project, cache=True)
    assert list(cache_dir.glob("stat-*.arrow"))
    calls = count_reads(monkeypatch)
    warm = validate(project, cache=True)
    assert snapshot(warm) == snapshot(cold)
    assert calls == []  # no corpus text, metadata or annotation file read again
    for name in ("documents", "mentions", "events", "arguments", "quotes", "flags"):  # the same rows in the same order
        assert getattr(warm.tables, name).to_pylist() == getattr(cold.tables, name).to_pylist(), name


def test_unchanged_and_changed_documents_interleave_in_document_order(project, cache_dir, no_racy_window):
    """With a document in the middle changed, the tables hold every document in order, as a cold run's."""
    import time
    validate(project, cache=True)
    time.sleep(0.05)
    middle = sorted(project.documents.glob("*.json"))[len(list(project.documents.glob("*.json"))) // 2]
    data = json.loads(middle.read_text("utf-8"))
    data["flags"].append({"code": "truncated", "note": "changed"})
    middle.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    warm, cold = validate(project, cache=True), validate(project)
    assert snapshot(warm) == snapshot(cold)
    for name in ("documents", "mentions", "events", "arguments", "quotes", "flags"):
        assert getattr(warm.tables, name).to_pylist() == getattr(cold.tables, name).to_pylist(), name


@pytest.mark.parametrize("which", ["annotation", "text", "metadata"])
def test_a_file_changed_to_the_same_size_is_read_again(project, cache_dir, monkeypatch, no_racy_window, which):
    """The stat index compares change times and inodes too: an edit that keeps the size (a letter
    replaced) is seen, and the result is the cold run's."""
    import time
    validate(project, cache=True)
    time.sleep(0.05)
    path = {"annotation": project.documents / f"{DOC}.json", "text": project.corpus / f"{DOC}.txt",
            "metadata": project.corpus / f"{DOC}.json"}[which]
    data = path.read_bytes()
    old, new = {"annotation": (b'"type": "PER"', b'"type": "ORG"'), "text": (b"Macron", b"Macr0n"),
                "metadata": (b'"language": "en"', b'"language": "fr"')}[which]
    assert old in data, which
    with open(path, "r+b") as f:  # in place: the same inode and size
        f.write(data.replace(old, new, 1))
    calls = count_reads(monkeypatch)
    warm = validate(project, cache=True)
    assert path.name in calls
    assert snapshot(warm) == snapshot(validate(project))


def _change(path: Path, note: str) -> None:
    data = json.loads(path.read_text("utf-8"))
    data["flags"] = [{"code": "inserted-material", "note": note}]
    path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))


def _written(path: Path):
    return (path.stat().st_ino, path.stat().st_mtime_ns) if path.exists() else None


def test_a_one_document_change_writes_the_stat_index_delta_only(project, cache_dir, monkeypatch, no_racy_window):
    """The stat index's base is not written again for a changed document: its new stat goes to the
    delta, and the next run reads nothing and writes nothing."""
    import time
    validate(project, cache=True)
    [base] = list(cache_dir.glob("stat-*[0-9a-f].arrow"))
    delta = base.with_name(f"{base.stem}.delta.arrow")
    written = _written(base)
    assert not delta.exists()
    time.sleep(0.05)
    _change(project.documents / f"{DOC}.json", "A test change.")
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))
    assert _written(base) == written and delta.exists()
    delta_written = _written(delta)
    calls = count_reads(monkeypatch)
    validate(project, cache=True)
    assert calls == [] and _written(base) == written and _written(delta) == delta_written


def test_a_new_document_goes_to_the_delta_with_the_new_listings(project, cache_dir, monkeypatch, no_racy_window):
    """A document added changes the folders' listings: the delta keeps them, and the next run lists
    no folder and reads no file again."""
    import shutil
    import time

    import peacetalks.reading.cache as cache_module
    validate(project, cache=True)
    [base] = list(cache_dir.glob("stat-*[0-9a-f].arrow"))
    written = _written(base)
    time.sleep(0.05)
    source = sorted(project.documents.glob("*.json"))[0].stem
    new = "zz_added"
    shutil.copy(project.corpus / f"{source}.txt", project.corpus / f"{new}.txt")
    meta = json.loads((project.corpus / f"{source}.json").read_text("utf-8"))
    (project.corpus / f"{new}.json").write_text(json.dumps({**meta, "id": new}, ensure_ascii=False, indent=2) + "\n",
                                                 "utf-8")
    data = json.loads((project.documents / f"{source}.json").read_text("utf-8"))
    (project.documents / f"{new}.json").write_bytes(dump_records({**data, "document": new},
                                                                 ("flags", "mentions", "events", "quotes")))
    first = validate(project, cache=True)
    assert snapshot(first) == snapshot(validate(project))
    assert _written(base) == written
    listed = []
    from peacetalks.reading.files import Listing
    monkeypatch.setattr(cache_module, "listing", lambda folder: listed.append(folder) or Listing.of([]))
    calls = count_reads(monkeypatch)
    assert snapshot(validate(project, cache=True)) == snapshot(first)
    assert calls == [] and listed == []


def test_the_stat_index_base_is_written_again_once_the_delta_outgrows_it(project, cache_dir, no_racy_window,
                                                                        monkeypatch):
    import time

    import peacetalks.reading.cache as cache_module
    monkeypatch.setattr(cache_module, "STAT_DELTA_ROWS", 1)  # (a document read again is a row)
    validate(project, cache=True)
    [base] = list(cache_dir.glob("stat-*[0-9a-f].arrow"))
    delta = base.with_name(f"{base.stem}.delta.arrow")
    written = _written(base)
    documents = sorted(project.documents.glob("*.json"))
    time.sleep(0.05)
    _change(documents[0], "One change.")
    validate(project, cache=True)
    assert _written(base) == written and delta.exists()  # one row: within the delta's bound
    time.sleep(0.05)
    more = documents[1:2 + len(documents) // 8]  # (past the bound, an eighth of the base, whatever the corpus)
    for n, path in enumerate(more):
        _change(path, f"Another change {n}.")
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))
    assert _written(base) != written and not delta.exists()  # more rows than the bound: the base takes them
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))


@pytest.mark.parametrize("damage", ["garbage", "stale"])
def test_a_damaged_or_stale_delta_changes_no_result(project, cache_dir, no_racy_window, damage):
    """A delta that cannot be read is ignored; one left from before the base was written again (say,
    a crash between the two) holds facts that are checked before use: either way, the cold result."""
    import time
    validate(project, cache=True)
    [base] = list(cache_dir.glob("stat-*[0-9a-f].arrow"))
    delta = base.with_name(f"{base.stem}.delta.arrow")
    documents = sorted(project.documents.glob("*.json"))
    time.sleep(0.05)
    _change(documents[0], "One change.")
    validate(project, cache=True)
    old = delta.read_bytes()
    time.sleep(0.05)
    _change(documents[0], "A second change.")
    validate(project, cache=True)
    delta.write_bytes(b"not an arrow file" if damage == "garbage" else old)
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))


def test_files_changed_just_before_the_index_is_written_are_left_out_of_it(project, cache_dir):
    from peacetalks.reading.cache import StatIndex, index_path
    validate(project, cache=True)
    index = StatIndex(index_path(cache_dir, project.root))
    assert DOC not in index  # copied a moment ago: racy


def _add_name(project):
    """Annotate, in the first document, a capitalised word that other documents leave bare."""
    import re
    docs = sorted(project.documents.glob("*.json"))
    first = docs[0]
    data = json.loads(first.read_text("utf-8"))
    text = (project.corpus / f"{first.stem}.txt").read_text("utf-8")
    others = " ".join((project.corpus / f"{d.stem}.txt").read_text("utf-8") for d in docs[1:])
    covered = [(m["start"], m["end"]) for m in data["mentions"]]
    for m in re.finditer(r"\b[A-Z][a-z]{4,}\b", text):
        if not any(s < m.end() and m.start() < e for s, e in covered) and re.search(rf"\b{m.group()}\b", others):
            data["mentions"].append({"id": "m9999", "start": m.start(), "end": m.end(), "text": m.group(),
                                     "type": data["mentions"][0]["type"], "level": "NAM",
                                     "entity": data["mentions"][0].get("entity")})
            first.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
            return m.group()
    raise AssertionError("no bare capitalised word shared with other documents")


def _drop_names(project):
    """Remove every named mention of one name from the first document that has one used elsewhere."""
    first = sorted(project.documents.glob("*.json"))[0]
    data = json.loads(first.read_text("utf-8"))
    name = next(m["text"] for m in data["mentions"] if m.get("level") == "NAM")
    gone = {m["id"] for m in data["mentions"] if m["text"] == name}
    data["mentions"] = [m for m in data["mentions"] if m["id"] not in gone]
    data["events"] = [{**e, "arguments": [a for a in e["arguments"] if a["mention"] not in gone]} for e in data["events"]]
    data["quotes"] = [{k: v for k, v in q.items() if not (k in ("speaker", "addressee") and v in gone)}
                      for q in data["quotes"]]
    first.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    return name


@pytest.mark.parametrize("edit", [_add_name, _drop_names], ids=["a name annotated", "a name dropped"])
def test_corpus_level_warnings_after_a_change_are_the_cold_runs(project, cache_dir, no_racy_window, edit):
    """W001/W007 search only the changed documents and those holding a name whose corpus entry changed;
    what they report is what a search of every document reports (here: other documents' warnings
    about the name appear, disappear or change their counts)."""
    import time
    before = validate(project, cache=True)
    time.sleep(0.05)
    name = edit(project)
    warm, cold = validate(project, cache=True), validate(project)
    assert [p.render() for p in warm.problems] == [p.render() for p in cold.problems]
    bare = lambda r: {p.render() for p in r.problems if p.code in ("W001", "W007") and repr(name) in p.message}  # noqa: E731
    assert bare(before) != bare(cold)  # the change did move other documents' warnings
    again = validate(project, cache=True)  # and a run on the state the last one kept
    assert [p.render() for p in again.problems] == [p.render() for p in cold.problems]


def test_a_build_between_two_validations_leaves_no_stale_warning(project, cache_dir, no_racy_window, tmp_path):
    """A build (no warnings) takes changed documents into the cache; the next validation still searches
    them, since the warnings kept were found in their earlier files."""
    import time

    from peacetalks.release.build import build
    validate(project, cache=True)
    time.sleep(0.05)
    _add_name(project)
    build(project, tmp_path / "release", cache=True)
    warm, cold = validate(project, cache=True), validate(project)
    assert [p.render() for p in warm.problems] == [p.render() for p in cold.problems]


def test_stat_documents_gives_each_files_stat_and_minus_ones_for_a_gone_one(tmp_path):
    """A row per document: its annotation file's, text's and metadata's stats, in this order."""
    import os

    from peacetalks.reading.cache import stat_documents
    from peacetalks.reading.files import stat_key
    (tmp_path / "a").mkdir()
    (tmp_path / "c").mkdir()
    for i, content in enumerate(["a", "", "bb\n" * 1000]):
        for folder, suffix in (("a", ".json"), ("c", ".txt"), ("c", ".json")):
            (tmp_path / folder / f"d{i}{suffix}").write_text(content + suffix, "utf-8")
    (tmp_path / "c" / "d1.txt").unlink()

    def stats(*paths):
        return [x for p in paths for x in (stat_key(os.stat(tmp_path / p)) if (tmp_path / p).exists() else [-1] * 4)]
    got = stat_documents((str(tmp_path / "a"), str(tmp_path / "c"), ["d2", "d1", "d0"]))
    assert got.tolist() == [stats(f"a/d{i}.json", f"c/d{i}.txt", f"c/d{i}.json") for i in (2, 1, 0)]
    assert got[1, 4:8].tolist() == [-1] * 4  # (the text is gone)
    assert stat_documents((str(tmp_path / "a"), str(tmp_path / "c"), [])).shape == (0, 12)


def test_stats_begun_before_the_documents_are_known_are_used_and_completed(tmp_path):
    """``stat_folder`` takes the stats of every <name>.json entry of the annotation folder before the ids
    are known (a ``peacetalks validate`` begins it while it imports the checks): a superset of the
    documents, by the suffix alone; ``_stats`` then gives what it would take itself: the rows it has, in
    the documents' order, and the others taken now (a document added since, one without files), or all
    of them if the worker died."""
    from types import SimpleNamespace

    from peacetalks.checks import validate as validate_module
    from peacetalks.reading.cache import stat_documents, stat_folder
    project = SimpleNamespace(documents=tmp_path / "a", corpus=tmp_path / "c")
    project.documents.mkdir()
    project.corpus.mkdir()

    def add(i):
        for path in (project.documents / f"d{i}.json", project.corpus / f"d{i}.txt", project.corpus / f"d{i}.json"):
            path.write_text("x" * i, "utf-8")
    for i in range(4):
        add(i)
    (project.corpus / "d1.json").unlink()  # (a half pair: its row has -1s)
    (project.documents / ".json").write_text("{}", "utf-8")  # (no id: not a document)
    (project.documents / "notes.txt").write_text("", "utf-8")
    (project.documents / ".hidden.json").write_text("{}", "utf-8")  # (hidden, a folder, a link: not documents,
    (project.documents / "sub.json").mkdir()                        # but stated all the same)
    try:
        (project.documents / "link.json").symlink_to(project.documents / "d0.json")
    except OSError:
        pass
    try:
        (project.documents / os.fsdecode(b"d\xff.json")).write_text("{}", "utf-8")  # (not UTF-8: no id either)
    except (OSError, UnicodeEncodeError):
        pass
    folders = (str(project.documents), str(project.corpus))
    stems, rows = stat_folder(folders)
    assert {"d0", "d1", "d2", "d3"} <= set(stems) and "notes" not in stems and stems == sorted(stems)
    assert all(s.isprintable() for s in stems)  # (no name that is not UTF-8)
    assert rows.tolist() == stat_documents((*folders, stems)).tolist()
    add(4)  # (after the stats were begun)

    class Begun:  # (``runner.begin``'s, its answer there)
        def __init__(self, answer):
            self.answer = answer

        def result(self):
            return self.answer

    ids = ["d3", "d0", "d4", "d1", "gone", "d2"]
    now = stat_documents((*folders, ids)).tolist()
    assert validate_module._stats(project, ids, 1, Begun((stems, rows))).tolist() == now
    assert validate_module._stats(project, ids, 1, Begun(None)).tolist() == now  # (its worker died)
    assert validate_module._stats(project, [], 1, Begun((stems, rows))).shape == (0, 12)


BEGUN_SCRIPT = """
import json, multiprocessing, sys
from pathlib import Path
from peacetalks.checks import runner
from peacetalks.reading.cache import stat_folder
folders = (sys.argv[1], sys.argv[2])
begun = runner.begin(stat_folder, folders)
forked = begun is not None
children = len(multiprocessing.active_children())
stems, rows = begun.result()
same = rows.tolist() == stat_folder(folders)[1].tolist()
unused = runner.begin(stat_folder, folders)  # (not wanted after all: closed, its worker ends)
unused.close()
print(json.dumps({"forked": forked, "children": children, "same": same, "stems": stems,
                  "left": len(multiprocessing.active_children()), "safe": runner._fork_is_safe()}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="forks from this process only where threads can be listed")
def test_stats_begun_in_a_forked_worker_end_with_it(project, tmp_path):
    """``runner.begin`` forks one worker for the call (in a clean process, as a command is); its answer is
    the call's, and once it is taken or the call is closed, no worker is left and the process may fork
    again (a worker left waiting would outlive the command)."""
    import subprocess
    import sys
    script = tmp_path / "begun.py"
    script.write_text(BEGUN_SCRIPT, "utf-8")
    r = subprocess.run([sys.executable, str(script), str(project.documents), str(project.corpus)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.splitlines()[-1])
    assert got["forked"] and got["children"] == 1 and got["same"]
    assert got["stems"] == sorted(p.stem for p in project.documents.glob("*.json"))
    assert got["left"] == 0 and got["safe"]


STATS_SCRIPT = """
import json, sys
from pathlib import Path
import peacetalks.reading.cache as cache
from peacetalks.checks import runner, validate as v
from peacetalks.reading.project import Project
cache.RACY_NS = 0  # (the test's files were all written a moment ago)
v.STAT_DOCS, v.STAT_PARALLEL_FROM = 2, 1  # (the project's few documents in several shards, over the workers)
forks = runner._fork_is_safe()
project = Project(Path(sys.argv[1]))
docs = sorted(p.stem for p in project.documents.glob("*.json"))
same = v._stats(project, docs, None).tolist() == \
    cache.stat_documents((str(project.documents), str(project.corpus), docs)).tolist()
ran = []
real = runner.run
runner.run = lambda function, shards, jobs=1, **options: ran.append((function.__name__, jobs, options)) \\
    or real(function, shards, jobs, **options)
result = v.validate(project, cache=True)
print(json.dumps({"forks": forks, "same": same, "ran": ran, "problems": [p.render() for p in result.problems]}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="forks from this process only where threads can be listed")
def test_a_cached_run_takes_the_stats_over_its_workers_and_gives_the_same_answer(project, tmp_path, monkeypatch):
    """A cached run takes its files' stats a shard at a time in workers forked from it (``preload=()``: they
    need no import), and gives the cold run's answer after a change (each run in a clean process of its
    own, as a command runs: this test process could not fork)."""
    import subprocess
    import sys

    from peacetalks.checks.runner import default_jobs
    from peacetalks.model.layers import LAYERS
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache"))
    script = tmp_path / "stats.py"
    script.write_text(STATS_SCRIPT, "utf-8")

    def cached_run() -> dict:
        r = subprocess.run([sys.executable, str(script), str(project.root)], capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.splitlines()[-1])

    cached_run()  # (fills the cache and the stat index)
    document = sorted(project.documents.glob("*.json"))[-1]
    data = json.loads(document.read_text("utf-8"))
    data["flags"] = data.get("flags", []) + [{"code": "no-such-flag", "note": "A test's change."}]
    document.write_bytes(dump_records(data, LAYERS))
    got = cached_run()
    assert got["forks"] and got["same"]  # (the stats over the workers are this process's, in order)
    assert got["ran"][0] == ["stat_documents", default_jobs(), {"preload": [], "fork_only": True}]
    cold = [p.render() for p in validate(project).problems]
    assert got["problems"] == cold and any(document.name in p for p in cold)  # (the change was seen)


@pytest.mark.parametrize("documents, jobs, workers", [
    (25, None, 1),    # (below STAT_PARALLEL_FROM: this process)
    (25, 64, 3),      # (--jobs 64: no more workers than the 3 shards)
    (250, None, "all"),
    (0, 8, 1),
])
def test_the_stats_take_no_more_workers_than_they_have_shards(tmp_path, monkeypatch, documents, jobs, workers):
    from types import SimpleNamespace

    from peacetalks.checks import runner
    from peacetalks.checks import validate as validate_module
    from peacetalks.reading.cache import stat_documents
    monkeypatch.setattr(validate_module, "STAT_DOCS", 10)
    monkeypatch.setattr(validate_module, "STAT_PARALLEL_FROM", 100)
    project = SimpleNamespace(documents=tmp_path / "a", corpus=tmp_path / "c")
    project.documents.mkdir()
    project.corpus.mkdir()
    ids = []
    for i in range(documents):
        for path in (project.documents / f"d{i}.json", project.corpus / f"d{i}.txt", project.corpus / f"d{i}.json"):
            path.write_text("x" * i, "utf-8")
        ids.append(f"d{i}")
    asked = []
    real = runner.run
    monkeypatch.setattr(runner, "run", lambda function, shards, n=1, **options:
                        asked.append(n) or real(function, shards, n, **options))
    got = validate_module._stats(project, ids, jobs)
    assert got.tolist() == stat_documents((str(project.documents), str(project.corpus), ids)).tolist()
    assert asked == [min(runner.default_jobs(), 25) if workers == "all" else workers]


def test_a_segment_is_written_batch_by_batch_in_document_order(project, cache_dir, monkeypatch, tmp_path):
    """``Cache.save`` merges kept entries and new ones (a shard's each, in memory or spooled to a file)
    into one segment in document order, a batch of at most SHARD_DOCS entries at a time, with the
    candidate warnings searched now in place of the kept entries' old ones."""
    import peacetalks.reading.cache as cache_module
    validate(project, cache=True)
    store = Cache(cache_path(cache_dir, project.schema))
    table = store.table.sort_by([("key", "ascending")])  # (not in document order: the merge sorts)
    documents = pc_documents(table)
    assert len(documents) >= 3
    kept = [i for i in range(len(documents)) if i % 2 == 0]
    new = [i for i in range(len(documents)) if i % 2 == 1]
    halves = [new[::2], new[1::2]]
    parts = []
    for n, half in enumerate(halves):
        half = sorted(half, key=lambda i: documents[i])
        rows = table.take(pa.array(half, pa.int64()))
        parts.append(NewEntries.of([documents[i] for i in half], [f"new-{documents[i]}" for i in half],
                                   rows.column("record").combine_chunks(),
                                   pa.Table.from_struct_array(rows.column("row").combine_chunks()),
                                   [[] for _ in half], str(tmp_path) if n == 0 else None))
    assert parts[0].path is not None and parts[0].table is None  # (one spooled, one in memory)
    first = table.column("key")[kept[0]].as_py()
    searched = [{"path": "x", "line": 1, "column": 1, "code": "W009", "message": "m", "hint": None}]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(cache_module, "SHARD_DOCS", 2)
        m.setattr(cache_module, "MAX_CACHE_RUNS", 0)  # (a compaction: every live entry is written again)
        m.setattr(store, "_unsearched", lambda: {first})
        store.save([table.column("key")[i].as_py() for i in kept], parts, {first: searched})
    [segment] = list(cache_dir.glob("validated-*.arrow"))
    reader = pa.ipc.open_file(pa.memory_map(str(segment)))
    assert reader.num_record_batches > 1 and all(reader.get_batch(i).num_rows <= 2
                                                 for i in range(reader.num_record_batches))
    written = reader.read_all()
    assert pc_documents(written) == sorted(documents)
    expected = {documents[i]: table.column("key")[i].as_py() for i in kept} | {documents[i]: f"new-{documents[i]}"
                                                                              for i in new}
    assert written.column("key").to_pylist() == [expected[d] for d in sorted(documents)]
    by_document = dict(zip(pc_documents(written), written.column("candidates").to_pylist()))
    assert by_document[documents[kept[0]]] == searched
    assert all(by_document[documents[i]] == [] for i in new)
    records = dict(zip(pc_documents(table), table.column("record").to_pylist()))
    assert [records[d] for d in sorted(documents)] == written.column("record").to_pylist()


def pc_documents(table) -> list[str]:
    return [r["document"] for r in table.column("record").to_pylist()]


def test_a_compaction_in_small_batches_gives_the_cold_answer(project, cache_dir, monkeypatch, no_racy_window):
    """Kept and changed documents interleaved, merged a few at a time: the cache in document order, and
    every later run the cold run's answer."""
    import peacetalks.reading.cache as cache_module
    monkeypatch.setattr(cache_module, "SHARD_DOCS", 2)
    monkeypatch.setattr(cache_module, "MAX_CACHE_RUNS", 0)
    validate(project, cache=True)
    documents = sorted(project.documents.glob("*.json"))
    for n, path in enumerate(documents[1::2]):
        _change(path, f"A change {n}.")
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))
    [segment] = list(cache_dir.glob("validated-*.arrow"))
    written = pa.ipc.open_file(pa.memory_map(str(segment))).read_all()
    assert pc_documents(written) == sorted(p.stem for p in documents)
    assert snapshot(validate(project, cache=True)) == snapshot(validate(project))


def test_the_stat_index_makes_keys_again_for_other_registries_and_keeps_them(tmp_path, monkeypatch):
    """A row's key holds for the registries it was made with; for others it is made again from the
    recorded digests (nothing is read), and the index written then keeps the new keys."""
    import numpy as np
    import pyarrow as pa

    import peacetalks.reading.cache as cache_module
    from peacetalks.reading.cache import StatIndex, document_key, stat_rows
    monkeypatch.setattr(cache_module, "RACY_NS", 0)
    stamps = {d: [(i + 1, 10, 10, 100 * i + j, f"{d}-{j}") for j in range(3)] for i, d in enumerate(["a", "b"])}
    path = tmp_path / "stat-x.arrow"
    index = StatIndex(path)
    index.save(np.zeros(0, np.int64), pa.array([], pa.string()), "old",
               [stat_rows([(d, document_key([s[4] for s in stamps[d]], "old"), stamps[d]) for d in stamps], "old")])
    index = StatIndex(path)
    rows = np.array([1, 0])
    same = index.keys(rows, "old").to_pylist()
    assert same == index.table.column("key").take(pa.array(rows)).to_pylist()
    new = index.keys(rows, "new").to_pylist()
    expected = [document_key([s[4] for s in stamps[index.table.column("document")[r].as_py()]], "new") for r in rows]
    assert new == expected and set(new).isdisjoint(same)
    index.save(rows, pa.array(new), "new", [])
    again = StatIndex(path)
    assert sorted(again.keys(np.arange(2), "new").to_pylist()) == sorted(new)
    assert set(again.table.column("registries").to_pylist()) == {"new"}


@pytest.mark.parametrize("order", ["runs", "reversed", "scattered", "one", "none"])
def test_gathered_entries_are_the_keys_own_in_their_order(project, cache_dir, order):
    """``Cache.gather`` takes runs of consecutive rows as slices: whatever the keys' order, each value of
    every column is its key's own, in the order asked."""
    import random

    from peacetalks.reading.cache import Cache, cache_path
    validate(project, cache=True)
    store = Cache(cache_path(cache_dir, project.schema))
    keys = list(store.rows)
    chosen = {"runs": keys[:2] + keys[3:], "reversed": keys[::-1], "one": keys[1:2], "none": [],
              "scattered": random.Random(7).sample(keys, len(keys))}[order]
    entries = store.gather(chosen)
    assert len(entries.rows) == len(chosen) and entries.column("key").to_pylist() == chosen
    own = [store.table.slice(store.rows[k], 1).to_pylist()[0] for k in chosen]
    assert store.gather(chosen).records.to_pylist() == entries.records.to_pylist() == [e["record"] for e in own]
    assert entries.candidates.to_pylist() == [e["candidates"] for e in own]
    assert entries.documents.to_pylist() == [dict(zip(entries.documents.column_names, e["row"].values())) for e in own]


@pytest.mark.parametrize("which", ["annotation", "text", "metadata"])
def test_a_touched_document_is_read_once_then_known_again(project, cache_dir, monkeypatch, no_racy_window, which):
    """A file whose stat changed but not its bytes (touched, or rewritten the same) is read and hashed:
    its document's key is the cache's, so it is not checked again, and the stat index keeps its new
    stat, so that the next run reads nothing."""
    import os
    import time
    validate(project, cache=True)
    path = {"annotation": project.documents / f"{DOC}.json", "text": project.corpus / f"{DOC}.txt",
            "metadata": project.corpus / f"{DOC}.json"}[which]
    time.sleep(0.05)
    os.utime(path)
    cold = snapshot(validate(project))
    calls = count_reads(monkeypatch)
    assert snapshot(validate(project, cache=True)) == cold
    assert path.name in calls and len(calls) <= 3  # (the touched document's files, no other)
    calls.clear()
    assert snapshot(validate(project, cache=True)) == cold
    assert calls == []


def test_the_stat_index_keeps_a_row_per_cached_document(project, cache_dir, no_racy_window):
    from peacetalks.reading.cache import StatIndex, index_path
    validate(project, cache=True)
    index = StatIndex(index_path(cache_dir, project.root))
    documents = sorted(p.stem for p in project.documents.glob("*.json"))
    assert sorted(index.table.column("document").to_pylist()) == documents
    assert all(d in index for d in documents)
