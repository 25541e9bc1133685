"""`peacetalks stats`: figures recomputed here from the annotation files by plain counting."""

import json
from collections import Counter

from conftest import ROOT

from peacetalks.checks.validate import validate
from peacetalks.cli import main
from peacetalks.reading.project import Project


def file_counts():
    per_doc, types, kinds, roles = {}, Counter(), Counter(), Counter()
    for path in sorted((ROOT / "annotations" / "documents").glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        levels = Counter(m.get("level", "timex") for m in data["mentions"])
        per_doc[data["document"]] = {
            "NAM": levels["NAM"], "NOM": levels["NOM"], "PRO": levels["PRO"], "timex": levels["timex"],
            "entities": len({m["entity"] for m in data["mentions"] if "entity" in m}),
            "events": len(data["events"]), "arguments": sum(len(e["arguments"]) for e in data["events"]),
            "quotes": len(data["quotes"]), "flags": len(data["flags"]),
        }
        types.update((m.get("level"), m["type"]) for m in data["mentions"])
        kinds.update(q["kind"] for q in data["quotes"])
        roles.update(a["role"] for e in data["events"] for a in e["arguments"])
    return per_doc, types, kinds, roles


def test_stats_json_matches_the_files(capsys):
    assert main(["--root", str(ROOT), "stats", "--format", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    per_doc, types, kinds, roles = file_counts()
    assert {d["document"]: {k: d[k] for k in per_doc[d["document"]]} for d in stats["documents"]} == per_doc
    for level, by_type in stats["labels"]["mentions"].items():
        assert by_type == {t: types[(level, t)] for t in by_type}
    assert stats["labels"]["quotes"] == {k: kinds[k] for k in stats["labels"]["quotes"]}
    assert {k: v for k, v in stats["labels"]["roles"].items() if v} == dict(roles)
    registry = json.loads((ROOT / "annotations" / "entities.json").read_text("utf-8"))["entities"]
    assert stats["totals"]["entities"] == len(registry)
    assert stats["totals"]["entities_with_wikidata"] == sum(1 for e in registry if e["wikidata"])
    assert len(stats["entities_without_wikidata"]) == sum(1 for e in registry if not e["wikidata"])
    top = stats["entities_by_mentions"]
    assert [e["mentions"] for e in top] == sorted((e["mentions"] for e in top), reverse=True)


def test_stats_text_and_markdown(capsys):
    assert main(["--root", str(ROOT), "stats"]) == 0
    out = capsys.readouterr().out
    assert "per document:" in out and "entities without a Wikidata id" in out
    assert main(["--root", str(ROOT), "stats", "--format", "markdown"]) == 0
    assert "| document | NAM | NOM |" in capsys.readouterr().out


def test_stats_refuses_a_corpus_with_errors(project, capsys):
    path = next(project.documents.glob("*.json"))
    path.write_text(path.read_text("utf-8").replace('"type": "PER"', '"type": "PERSON"', 1), "utf-8")
    assert main(["--root", str(project.root), "stats"]) == 1
    assert "fix the errors first" in capsys.readouterr().err


def test_every_layer_and_its_entries_lists_are_counted_per_document():
    """The per-document counts come from the layer table: one per layer and per list inside a layer's
    entries (``annotations.CHILDREN``), each the number of that table's rows of the document."""
    from peacetalks.model.layers import LAYERS
    from peacetalks.reading.annotations import CHILDREN
    from peacetalks.release.stats import PER_DOCUMENT, partial
    tables = validate(Project(ROOT), lints=False).tables
    names = (*LAYERS, *(child for _, child, _ in CHILDREN))
    assert set(names) <= set(PER_DOCUMENT) and len(set(PER_DOCUMENT)) == len(PER_DOCUMENT)
    counted = partial(tables).documents
    for name in names:
        column = getattr(tables, name).column("document").to_pylist()
        assert dict(zip(counted["id"], counted[name])) == {d: column.count(d) for d in counted["id"]}, name
