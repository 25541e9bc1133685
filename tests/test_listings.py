"""The folder listings (level 1 of corpus/ and annotations/documents/), sorted out a column at a time
(``reading.corpus.list_corpus``, ``reading.annotations.list_documents``), against the rules read one
entry at a time: the same ids and the same problems for any names, odd ones included."""

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peacetalks.diagnostics.problems import Problem, is_utf8, quoted
from peacetalks.model.schemas import Schemas
from peacetalks.reading.annotations import list_documents
from peacetalks.reading.corpus import list_corpus
from peacetalks.reading.files import Listing, listing
from peacetalks.reading.project import Project

SCHEMAS = Schemas(Path(__file__).resolve().parents[1] / "schema")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """A project with empty folders: the listings are given, only the folders must be there."""
    project = Project(tmp_path_factory.mktemp("listings"))
    for folder in (project.corpus, project.documents):
        folder.mkdir(parents=True)
    return project


def corpus_by_entry(entries):
    """list_corpus's rules, an entry at a time: (ids, [(name, code)])."""
    texts, metas, found = set(), set(), []
    for name, is_file in sorted(entries):
        if name.startswith(".") and name.endswith(".tmp"):
            continue
        if not is_utf8(name):
            found.append((name, "F008"))
            continue
        stem, dot, suffix = name.rpartition(".")
        if is_file and dot and stem and suffix == "txt":
            texts.add(stem)
        elif is_file and dot and stem and suffix == "json":
            metas.add(stem)
        else:
            found.append((name, "F008"))
    found += [(f"{s}.txt" if s in texts else f"{s}.json", "F009") for s in texts ^ metas]
    return sorted(texts & metas), sorted(found)


def documents_by_entry(entries):
    """list_documents's rules, an entry at a time: (ids, [(name, code, message)])."""
    files, found = [], []
    for name, is_file in sorted(entries):
        if name.startswith("."):
            continue
        stem, dot, suffix = name.rpartition(".")
        suffix = f".{suffix}" if dot and stem else ""
        stem = stem if suffix else name
        if suffix.lower() in (".yaml", ".yml"):
            found.append((name, "F008", "YAML"))
        elif not is_file:
            found.append((name, "F008", "entry"))
        elif suffix != ".json":
            found.append((name, "F008", "file"))
        elif not SCHEMAS.is_valid_id(stem):
            found.append((name, "F007", "id"))
        else:
            files.append(stem)
    return sorted(files), sorted(found)


_KIND = {"YAML": "YAML files are not read", "entry": "unexpected entry", "file": "unexpected file", "id": "not a safe"}

PIECES = ["a", "B", "7", "é", "-", "_", ".", "..", ".txt", ".json", ".JSON", ".yaml", ".YML", ".yml", ".tmp", "\udcff",
          " "]
names = st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join)
entries = st.dictionaries(names, st.booleans(), max_size=25).map(lambda d: list(d.items()))


@settings(max_examples=300, deadline=None)
@given(entries)
def test_the_corpus_listing_is_sorted_out_as_entry_by_entry(project, entries):
    ids, problems = list_corpus(project, lambda folder: Listing.of(entries))
    expected_ids, expected = corpus_by_entry(entries)
    assert ids == expected_ids
    prefix = project.rel(project.corpus) + "/"
    assert sorted((p.path, p.code) for p in problems) == sorted((_shown(prefix, name), code) for name, code in expected)


@settings(max_examples=300, deadline=None)
@given(entries)
def test_the_documents_listing_is_sorted_out_as_entry_by_entry(project, entries):
    files, problems = list_documents(project, SCHEMAS, lambda folder: Listing.of(entries))
    expected_ids, expected = documents_by_entry(entries)
    assert list(files) == expected_ids
    assert all(files[i] == f"{project.documents}/{i}.json" for i in files)
    prefix = project.rel(project.documents) + "/"
    got = sorted((p.path, p.code) for p in problems)
    assert got == sorted((_shown(prefix, name), code) for name, code, _ in expected)
    for p, (name, _, kind) in zip(sorted(problems, key=lambda p: (p.path, p.code)),
                                  sorted(expected, key=lambda e: (_shown(prefix, e[0]), e[1]))):
        assert _KIND[kind] in p.message, (p.render(), kind)
        assert kind != "id" or quoted(name) in p.message, (p.render(), name)  # (named as ``os`` gives it)


def _shown(prefix: str, name: str) -> str:
    """A problem's path as it is shown (``Problem`` escapes what a report cannot hold)."""
    return Problem(prefix + name, 1, 1, "F008", "x").path


def test_a_listing_iterates_in_name_order_with_the_names_that_are_not_utf8(tmp_path):
    odd = os.fsdecode(b"b\xff.json")
    try:
        (tmp_path / odd).write_bytes(b"{}")
    except (OSError, UnicodeEncodeError):
        odd = None
    (tmp_path / "c.json").write_bytes(b"{}")
    (tmp_path / "a").mkdir()
    got = listing(str(tmp_path))
    assert list(got) == sorted([("a", False), ("c.json", True)] + ([(odd, True)] if odd else []))
    assert got.names.to_pylist() == ["a"] + (["b\\xff.json"] if odd else []) + ["c.json"]
    assert got.regular.to_pylist() == [False] + ([True] if odd else []) + [True]
    assert got.undecodable == (((1, odd),) if odd else ())
    assert got.utf8().to_pylist() == [True] + ([False] if odd else []) + [True]
    assert [got.name(i) for i in range(len(got.names))] == [name for name, _ in got]
    assert got == listing(str(tmp_path))


def test_the_documents_come_in_id_order_not_file_name_order(project):
    """``a-b.json`` sorts before ``a.json`` (``-`` before ``.``), but id ``a`` before ``a-b``."""
    entries = [("a-b.json", True), ("a.json", True), ("a0.json", True)]
    files, problems = list_documents(project, SCHEMAS, lambda folder: Listing.of(entries))
    assert list(files) == ["a", "a-b", "a0"] and problems == []
    ids, problems = list_corpus(project, lambda folder: Listing.of(
        [(f"{i}{suffix}", True) for i in ("a-b", "a", "a0") for suffix in (".txt", ".json")]))
    assert ids == ["a", "a-b", "a0"] and problems == []
