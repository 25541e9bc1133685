"""End to end: ingest -> validate -> build -> load_dataset, values checked against the files."""

import json

import pytest
from conftest import DOC, ROOT, copy_checkout
from datasets import ClassLabel, load_dataset

from peacetalks.model.labels import Labels
from peacetalks.release.build import BuildError, build
from peacetalks.release.layout import CONFIGS, parquet_path


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkout")
    project = copy_checkout(root)
    return project, build(project, root / "out" / "rel")


def test_every_config_loads_offline_with_typed_labels(release):
    _, rel = release
    labels = Labels(ROOT / "schema" / "labels.json")
    for config in CONFIGS:
        ds = load_dataset(str(rel.path), config, split="train")
        assert ds.num_rows == json.loads((rel.path / "manifest.json").read_text())["configs"][config]["rows"]
    mentions = load_dataset(str(rel.path), "mentions", split="train")
    assert isinstance(mentions.features["type"], ClassLabel)
    assert mentions.features["type"].names == labels.mention_types
    ner = load_dataset(str(rel.path), "ner", split="train")
    assert ner.features["ner_tags"].feature.names == labels.ner_tags
    default = load_dataset(str(rel.path), split="train")
    assert default.num_rows == len(list((ROOT / "corpus").glob("*.txt"))) and "mentions" in default.features


def test_values_match_the_annotation_files(release):
    _, rel = release
    source = json.loads((ROOT / "annotations" / "documents" / f"{DOC}.json").read_text("utf-8"))
    text = (ROOT / "corpus" / f"{DOC}.txt").read_text("utf-8")[:-1]
    mentions = load_dataset(str(rel.path), "mentions", split="train").filter(lambda r: r["document"] == DOC)
    names = mentions.features["type"].names
    assert [(m["id"], m["start"], m["end"], names[m["type"]]) for m in mentions] == [
        (m["id"], m["start"], m["end"], m["type"]) for m in source["mentions"]]
    assert all(text[m["start"]:m["end"]] == m["text"] for m in mentions)
    docs = load_dataset(str(rel.path), "documents", split="train")
    row = docs[[r for r in docs["id"]].index(DOC)]
    assert row["text"] == text and row["date"] == "2025-04-17"
    assert len(row["events"]) == len(source["events"]) and len(row["quotes"]) == len(source["quotes"])
    first_event = source["events"][0]
    assert [a["mention"] for a in row["events"][0]["arguments"]] == [a["mention"] for a in first_event["arguments"]]
    quotes = load_dataset(str(rel.path), "quotes", split="train").filter(lambda r: r["document"] == DOC)
    speakers = {m["id"]: m.get("entity") for m in source["mentions"]}
    assert [q["speaker_entity"] for q in quotes] == [speakers.get(q.get("speaker")) for q in source["quotes"]]


def test_ner_tags_are_bio_over_named_mentions(release):
    _, rel = release
    ner = load_dataset(str(rel.path), "ner", split="train").filter(lambda r: r["document"] == DOC)
    names = ner.features["ner_tags"].feature.names
    first = ner[0]
    tagged = [(tok, names[t]) for tok, t in zip(first["tokens"], first["ner_tags"]) if t]
    assert tagged[:3] == [("French", "B-NORP"), ("Emmanuel", "B-PER"), ("Macron", "I-PER")]
    for row in ner:
        tags = [names[t] for t in row["ner_tags"]]
        for prev, tag in zip(["O"] + tags, tags):
            assert not tag.startswith("I-") or prev[2:] == tag[2:]


def test_a_headline_is_text_and_a_sentence_of_its_own(release):
    _, rel = release
    docs = load_dataset(str(rel.path), "documents", split="train")
    ner = load_dataset(str(rel.path), "ner", split="train")
    first = {r["document"]: r for r in ner if r["sentence"] == 0}
    titled = [d for d in docs if d["title"]]
    assert titled  # (the seeds include headlined articles)
    for d in titled:
        assert d["text"].startswith(d["title"] + "\n")
        tokens = first[d["id"]]["tokens"]
        assert "".join(tokens) == d["title"].replace(" ", "")  # the headline, nothing more
    headline_mentions = [m for d in titled for m in d["mentions"] if m["end"] <= len(d["title"])]
    assert headline_mentions, "headlines are annotated"


def test_parquet_reads_directly_with_pandas_polars_and_duckdb(release):
    import duckdb
    import pandas as pd
    import polars as pl
    _, rel = release
    path = rel.path / parquet_path("mentions")
    assert len(pd.read_parquet(path)) == pl.read_parquet(path).height == rel.counts["mentions"]
    assert duckdb.sql(f"select count(*) from '{path}'").fetchall()[0][0] == rel.counts["mentions"]


def test_croissant_metadata_is_valid(release):
    import mlcroissant as mlc
    _, rel = release
    dataset = mlc.Dataset(jsonld=str(rel.path / "croissant.json"))
    assert [r.name for r in dataset.metadata.record_sets] == list(CONFIGS)
    records = list(dataset.records("entities"))
    assert len(records) == rel.counts["entities"]


def test_manifest_and_card(release):
    _, rel = release
    manifest = json.loads((rel.path / "manifest.json").read_text())
    assert manifest["version"] == rel.version and manifest["schema_version"] == Labels(ROOT / "schema" / "labels.json").schema_version
    assert set(manifest["files"]) == {p.relative_to(rel.path).as_posix() for p in rel.path.rglob("*")
                                      if p.is_file() and p.name != "manifest.json"}
    assert manifest["seeds"]["003_b7bcec48b37e17cc.txt"].startswith("bd85a723")
    card = (rel.path / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: ner" in card and "class_label" in card
    assert "Contact.Meet" in card and f"peacetalks {rel.version}" in card
    assert_hub_card(card)


def assert_hub_card(card: str) -> None:
    """The card is what huggingface_hub's ``DatasetCard`` reads and writes back unchanged, its metadata valid."""
    from huggingface_hub import DatasetCard
    parsed = DatasetCard(card)
    assert str(parsed) == card
    assert parsed.data.license == "other" and len(parsed.data.configs) == len(parsed.data.dataset_info)


def test_build_is_deterministic_and_immutable(release, tmp_path):
    project, rel = release
    again = build(project, tmp_path / "second")
    files = sorted(p.relative_to(rel.path) for p in rel.path.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again.path) for p in again.path.rglob("*") if p.is_file())
    assert all((rel.path / f).read_bytes() == (again.path / f).read_bytes() for f in files)
    assert build(project, rel.path).unchanged
    (again.path / "README.md").write_text("tampered")
    with pytest.raises(BuildError, match="immutable"):
        build(project, again.path)
    assert (again.path / "README.md").read_text() == "tampered"  # nothing overwritten
    assert not [p for p in again.path.parent.iterdir() if p.name.startswith(".")]  # no temporary left


def test_build_refuses_a_corpus_with_errors(project, tmp_path):
    path = project.documents / f"{DOC}.json"
    path.write_text(path.read_text("utf-8").replace('"type": "PER"', '"type": "PERSON"', 1), "utf-8")
    with pytest.raises(BuildError, match="S005"):
        build(project, tmp_path / "rel")
    assert not (tmp_path / "rel").exists()


@pytest.fixture
def small_shards(monkeypatch):
    """Shards of two documents, so that even a small corpus has several for the workers."""
    import peacetalks.checks.validate as validate_module
    monkeypatch.setattr(validate_module, "SHARD_DOCS", 2)


def test_serial_and_parallel_builds_are_byte_identical(project, tmp_path, small_shards):
    """The same shard function in this process or in two workers; shard sizes do not change the release."""
    one = build(project, tmp_path / "one", jobs=1)
    two = build(project, tmp_path / "two", jobs=2)
    a = json.loads((one.path / "manifest.json").read_text("utf-8"))["files"]
    b = json.loads((two.path / "manifest.json").read_text("utf-8"))["files"]
    assert a == b


def test_a_build_from_the_cache_is_byte_identical(project, tmp_path, monkeypatch, small_shards):
    """Documents taken from the cache (their files unread, as the stat index allows) give the release a
    cold build gives, whether one document changed or none."""
    import peacetalks.reading.cache as cache_module
    monkeypatch.setattr(cache_module, "RACY_NS", 0)  # (the copied files count as settled)
    monkeypatch.setenv("PEACETALKS_CACHE_DIR", str(tmp_path / "cache"))

    def files(release):
        return json.loads((release.path / "manifest.json").read_text("utf-8"))["files"]
    cold = build(project, tmp_path / "cold", jobs=1)
    build(project, tmp_path / "fill", jobs=1, cache=True)
    warm = build(project, tmp_path / "warm", jobs=2, cache=True)
    assert files(warm) == files(cold)
    path = sorted(project.documents.glob("*.json"))[0]
    data = json.loads(path.read_text("utf-8"))
    data["flags"].append({"code": "truncated", "note": "a change"})
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert files(build(project, tmp_path / "changed-warm", jobs=1, cache=True)) == \
        files(build(project, tmp_path / "changed-cold", jobs=1))


def test_a_shard_size_does_not_change_the_data(project, tmp_path, monkeypatch):
    """Shards are row groups: other shard sizes give other Parquet bytes, never other rows or figures."""
    import pyarrow.parquet as pq

    import peacetalks.checks.validate as validate_module
    whole = build(project, tmp_path / "whole", jobs=1)
    monkeypatch.setattr(validate_module, "SHARD_DOCS", 1)
    single = build(project, tmp_path / "single", jobs=1)
    for config in CONFIGS:
        a, b = pq.read_table(whole.path / parquet_path(config)), pq.read_table(single.path / parquet_path(config))
        assert a.equals(b), config
    assert pq.ParquetFile(single.path / parquet_path("documents")).num_row_groups == whole.counts["documents"]
    assert whole.counts == single.counts

    def card(release):  # (the Arrow sizes in the YAML header count per row group)
        return [line for line in (release.path / "README.md").read_text("utf-8").splitlines() if "num_bytes" not in line]
    assert card(whole) == card(single)


def test_a_broken_file_is_reported_alike_by_the_workers(project, tmp_path, small_shards):
    last = sorted(project.documents.glob("*.json"))[-1]
    last.write_text(last.read_text("utf-8").replace('"type": "PER"', '"type": "PERSON"', 1), "utf-8")
    with pytest.raises(BuildError) as alone:
        build(project, tmp_path / "a", jobs=1)
    with pytest.raises(BuildError) as shared:
        build(project, tmp_path / "b", jobs=2)
    assert f"{last.name}:" in str(shared.value) and "S005" in str(shared.value)
    assert str(shared.value) == str(alone.value)
    assert not (tmp_path / "b").exists()


def test_a_large_corpus_builds_a_readable_card(tmp_path):
    """150 generated documents (scripts/bench.py's generator): the card lists 100 and says where the rest are."""
    import importlib.util

    from peacetalks.reading.project import Project
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.generate(tmp_path / "project", 150)
    rel = build(Project(tmp_path / "project"), tmp_path / "rel")
    card = (rel.path / "README.md").read_text("utf-8")
    assert_hub_card(card)
    assert "The first 100 of 150 documents; the `documents` config lists them all." in card
    assert "| doc000099 |" in card and "| doc000100 |" not in card
    assert "The first 100 of 150 documents." in card  # the statistics' table too
    docs = load_dataset(str(rel.path), "documents", split="train")
    assert docs.num_rows == 150 and docs[149]["id"] == "doc000149"
    ner = load_dataset(str(rel.path), "ner", split="train")
    assert set(ner["document"]) == {f"doc{i:06d}" for i in range(150)}


def test_the_card_states_the_licensing_truthfully(release):
    import yaml
    _, rel = release
    card = (rel.path / "README.md").read_text("utf-8")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["license"] == "other" and meta["license_name"] and meta["license_link"] == "LICENSE.md"
    terms = (rel.path / meta["license_link"]).read_text("utf-8")
    body = card.split("## Licensing", 1)[1].split("\n## ", 1)[0]
    for text in (terms, body):
        assert "CC BY 4.0" in text and "not** licensed" in text and "publishers" in text
    croissant = json.loads((rel.path / "croissant.json").read_text("utf-8"))
    assert "https://creativecommons.org/licenses/by/4.0/" in croissant["license"] and "LICENSE.md" in croissant["license"]
    assert "LICENSE.md" in json.loads((rel.path / "manifest.json").read_text("utf-8"))["files"]
    assert meta["size_categories"] == ["n<1K" if rel.counts["documents"] < 1000 else meta["size_categories"][0]]


def test_size_categories_follow_the_hub_buckets():
    from peacetalks.release.card import size_category
    assert [size_category(n) for n in (0, 999, 1000, 9999, 10_000, 150_000, 2_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M"]


def test_the_card_size_does_not_depend_on_how_the_arrays_were_made():
    """``ipc_size`` (the card's num_bytes): an all-valid bitmap, kept by one way of making an array and
    not by another, changes ``Table.nbytes`` but not the size the card gives; a pickled copy, as a
    worker's rows arrive, has the same size; real content changes it."""
    import pickle

    import pyarrow as pa

    from peacetalks.release.parquet import ipc_size
    plain = pa.table({"a": pa.array([1, 2, 3]), "s": pa.array(["x", "yy", "zzz"])})
    validity = pa.py_buffer(bytes([0b111]))
    with_bitmap = pa.table({"a": pa.Array.from_buffers(pa.int64(), 3, [validity, plain["a"].chunk(0).buffers()[1]]),
                            "s": plain["s"]})
    assert with_bitmap.equals(plain)
    assert with_bitmap.nbytes != plain.nbytes  # (the reason for ipc_size)
    assert ipc_size(with_bitmap) == ipc_size(plain) == ipc_size(pickle.loads(pickle.dumps(plain)))
    longer = pa.table({"a": pa.array(range(100)), "s": pa.array(["word"] * 100)})
    assert ipc_size(longer.slice(0, 50)) < ipc_size(longer)
    assert ipc_size(pa.table({"a": pa.array([1, None, 3]), "s": plain["s"]})) > ipc_size(plain)


@pytest.mark.parametrize("broken", [False, True])
def test_the_rows_handed_over_by_the_workers_leave_nothing_behind(project, tmp_path, monkeypatch, small_shards,
                                                                   broken):
    """Workers hand each shard's rows over as Arrow files in a temporary folder of the build's own; it is
    gone after the build, whether it wrote the release or refused it."""
    import tempfile
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    if broken:
        last = sorted(project.documents.glob("*.json"))[-1]
        last.write_text(last.read_text("utf-8").replace('"type": "PER"', '"type": "PERSON"', 1), "utf-8")
        with pytest.raises(BuildError):
            build(project, tmp_path / "rel", jobs=2)
    else:
        assert build(project, tmp_path / "rel", jobs=2).counts["documents"] >= 1
    assert list(scratch.iterdir()) == []
