"""tools/score.py: gold against itself scores 1.0; small perturbations give hand-computed figures;
the ner scorer agrees with seqeval (which follows conlleval) on random tag sequences."""

import random
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import copy_checkout
from seqeval.metrics import classification_report
from seqeval.metrics.sequence_labeling import get_entities

from peacetalks.cli import main
from peacetalks.release.build import build
from peacetalks.release.layout import parquet_path
from peacetalks.tools.export import tag_names
from peacetalks.tools.score import ScoreError, chunks, score


@pytest.fixture(scope="module")
def gold(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkout")
    return build(copy_checkout(root), root / "rel").path


def perturbed(gold, tmp_path, config, change):
    """A copy of the release whose ``config`` rows went through ``change`` (a function of the row list)."""
    pred = tmp_path / "pred"
    shutil.copytree(gold, pred)
    path = pred / parquet_path(config)
    table = pq.read_table(path)
    rows = change(table.to_pylist())
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    return pred


def test_gold_against_itself_is_perfect(gold):
    for result in score(gold, gold):
        if result["task"] == "linking":
            assert result["entity_accuracy"] == result["wikidata_accuracy"] == result["end_to_end"]["f1"] == 1.0
        elif result["task"] == "events":
            assert all(result[k]["f1"] == 1.0 for k in ("trigger_identification", "trigger_classification",
                                                        "argument_identification", "role_classification"))
        elif result["task"] == "coref":
            assert all(m["f1"] == 1.0 for scope in ("within", "across") for k, m in result[scope].items()
                       if k != "conll_f1")
            assert result["within"]["conll_f1"] == result["across"]["conll_f1"] == 1.0
        elif result["task"] == "quotes":
            assert result["content_exact"]["f1"] == result["content_overlap"]["f1"] == 1.0
            assert result["cue_accuracy"] == result["speaker_accuracy"] == 1.0
        else:
            assert result["micro"]["f1"] == result["macro"]["f1"] == 1.0
            assert all(v["f1"] == 1.0 for v in result["by_label"].values())


@pytest.mark.parametrize("seed", range(20))
def test_chunks_are_conllevals_as_seqeval_reads_them(seed):
    rng = random.Random(seed)
    tags = [rng.choice(["O", "O", "B-PER", "I-PER", "B-GPE", "I-GPE", "I-ORG"]) for _ in range(rng.randint(0, 30))]
    assert [(t, s, e + 1) for t, s, e in get_entities(tags)] == [(t, s, e) for s, e, t in chunks(tags)]


def test_ner_figures_agree_with_seqeval_on_a_perturbed_system(gold, tmp_path):
    names = tag_names(gold)
    rng = random.Random(7)

    def noise(rows):
        for r in rows:
            r["ner_tags"] = [rng.randrange(len(names)) if rng.random() < 0.1 else t for t in r["ner_tags"]]
        return rows
    pred = perturbed(gold, tmp_path, "ner", noise)
    [ours] = score(gold, pred, ("ner",))
    g = [[names[t] for t in r["ner_tags"]] for r in pq.read_table(gold / parquet_path("ner")).to_pylist()]
    p = [[names[t] for t in r["ner_tags"]] for r in pq.read_table(pred / parquet_path("ner")).to_pylist()]
    theirs = classification_report(g, p, output_dict=True, zero_division=0)
    for label, v in ours["by_label"].items():
        if label in theirs:
            assert v["precision"] == pytest.approx(theirs[label]["precision"])
            assert v["recall"] == pytest.approx(theirs[label]["recall"])
            assert v["f1"] == pytest.approx(theirs[label]["f1-score"])
    assert ours["micro"]["f1"] == pytest.approx(theirs["micro avg"]["f1-score"])
    assert ours["micro"]["precision"] == pytest.approx(theirs["micro avg"]["precision"])
    assert ours["micro"]["f1"] < 1.0


def test_hand_computed_ner_figures(gold, tmp_path):
    """One named entity dropped and another retyped: every other chunk is right."""
    names = tag_names(gold)
    rows = pq.read_table(gold / parquet_path("ner")).to_pylist()
    n = sum(t.startswith("B-") for r in rows for t in (names[k] for k in r["ner_tags"]))
    i_per, i_gpe = names.index("B-PER"), names.index("B-GPE")

    def change(rows):
        dropped = retyped = False
        for r in rows:
            tags = r["ner_tags"]
            for k, t in enumerate(tags):
                if not dropped and t == i_per and (k + 1 == len(tags) or names[tags[k + 1]] != "I-PER"):
                    tags[k], dropped = 0, True  # a one-token PER chunk, left out
                elif dropped and not retyped and t == i_gpe and (k + 1 == len(tags) or names[tags[k + 1]] != "I-GPE"):
                    tags[k], retyped = names.index("B-ORG"), True  # a one-token GPE chunk, called ORG
        return rows
    [r] = score(gold, perturbed(gold, tmp_path, "ner", change), ("ner",))
    assert r["micro"]["correct"] == n - 2 and r["micro"]["gold"] == n and r["micro"]["predicted"] == n - 1
    assert r["micro"]["precision"] == pytest.approx((n - 2) / (n - 1))
    assert r["micro"]["recall"] == pytest.approx((n - 2) / n)
    per = r["by_label"]["PER"]
    assert per["recall"] == pytest.approx((per["gold"] - 1) / per["gold"]) and per["precision"] == 1.0
    assert r["by_label"]["ORG"]["predicted"] == r["by_label"]["ORG"]["gold"] + 1


def test_hand_computed_mention_and_linking_figures(gold, tmp_path):
    """One mention dropped, one shifted by a character, one relinked to another entity."""
    rows = pq.read_table(gold / parquet_path("mentions")).to_pylist()
    linked = [i for i, m in enumerate(rows) if m["wikidata"]]

    def change(rows):
        rows[linked[2]]["entity"], rows[linked[2]]["wikidata"] = "someone-else", "Q1"
        rows[linked[1]]["end"] += 1
        del rows[linked[0]]
        return rows
    mentions, linking = score(gold, perturbed(gold, tmp_path, "mentions", change), ("mentions", "linking"))
    n = len(rows)
    assert (mentions["micro"]["gold"], mentions["micro"]["predicted"], mentions["micro"]["correct"]) == (n, n - 1, n - 2)
    named = sum(m["entity"] is not None for m in rows)
    assert linking["gold_mentions"] == named and linking["matched_mentions"] == named - 2
    assert linking["entity_accuracy"] == pytest.approx((named - 3) / (named - 2))
    with_qid = len(linked)
    assert linking["wikidata_accuracy"] == pytest.approx((with_qid - 3) / (with_qid - 2))
    assert linking["end_to_end"]["correct"] == with_qid - 3


def test_a_prediction_with_other_tokens_is_refused(gold, tmp_path, capsys):
    def change(rows):
        rows[0]["tokens"] = rows[0]["tokens"][1:]
        rows[0]["ner_tags"] = rows[0]["ner_tags"][1:]
        return rows
    pred = perturbed(gold, tmp_path, "ner", change)
    with pytest.raises(ScoreError, match="tokens are not the gold"):
        score(gold, pred, ("ner",))
    assert main(["score", str(gold), str(pred), "--task", "ner"]) == 1
    assert "peacetalks score:" in capsys.readouterr().err
    assert main(["score", str(gold), str(gold), "--format", "markdown"]) == 0
    assert "| micro | 1.0000 |" in capsys.readouterr().out


def test_hand_computed_event_figures(gold, tmp_path):
    """One event retyped: its trigger is still found, but its type and every role of it are wrong."""
    rows = pq.read_table(gold / parquet_path("events")).to_pylist()
    k = next(i for i, e in enumerate(rows) if e["arguments"])
    n, args, moved = len(rows), sum(len(e["arguments"]) for e in rows), len(rows[k]["arguments"])

    def change(rows):
        rows[k]["type"] = (rows[k]["type"] + 1) % len(tag_names(gold, "events", "type"))
        return rows
    [r] = score(gold, perturbed(gold, tmp_path, "events", change), ("events",))
    assert r["trigger_identification"]["f1"] == 1.0 and r["argument_identification"]["f1"] == 1.0
    assert r["trigger_classification"]["correct"] == n - 1 and r["trigger_classification"]["predicted"] == n
    assert r["role_classification"]["correct"] == args - moved
    assert r["role_classification"]["precision"] == pytest.approx((args - moved) / args)


def test_hand_computed_quote_figures(gold, tmp_path):
    """One quote left out, another given to another speaker."""
    rows = pq.read_table(gold / parquet_path("quotes")).to_pylist()
    content = [(q["document"], q["content_start"], q["content_end"]) for q in rows]
    n = len(set(content))
    said = [i for i, q in enumerate(rows) if q["speaker_entity"] and content.count(content[i]) == 1]
    pairs = {(content[i], q["speaker_entity"]) for i, q in enumerate(rows) if q["speaker_entity"]}

    def change(rows):
        rows[said[1]]["speaker_entity"] = "someone-else"
        del rows[said[0]]
        return rows
    [r] = score(gold, perturbed(gold, tmp_path, "quotes", change), ("quotes",))
    assert (r["content_exact"]["gold"], r["content_exact"]["predicted"], r["content_exact"]["correct"]) == (n, n - 1, n - 1)
    assert r["content_overlap"]["precision"] == 1.0 and r["content_overlap"]["recall"] == pytest.approx((n - 1) / n)
    assert r["speaker_accuracy"] == pytest.approx((len(pairs) - 2) / (len(pairs) - 1))


def test_hand_computed_coref_figures(gold, tmp_path):
    """An entity's mentions in one document split off as another entity: MUC loses exactly the
    links that joined them, as computed by hand here."""
    rows = pq.read_table(gold / parquet_path("mentions")).to_pylist()
    per_doc = {}
    for m in rows:
        if m["entity"]:
            per_doc.setdefault((m["document"], m["entity"]), []).append(m)
    (document, entity), members = max(per_doc.items(), key=lambda kv: len(kv[1]))
    size = len(members)
    assert size >= 3

    def change(rows):
        for m in rows:
            if m["document"] == document and m["entity"] == entity and m["start"] == members[-1]["start"]:
                m["entity"] = "split-off"
        return rows
    [r] = score(gold, perturbed(gold, tmp_path, "mentions", change), ("coref",))
    links = sum(len(v) - 1 for v in per_doc.values())  # MUC: a cluster of n mentions has n - 1 links
    assert r["within"]["muc"]["recall"] == pytest.approx((links - 1) / links)
    assert r["within"]["muc"]["precision"] == 1.0
    assert r["within"]["b_cubed"]["precision"] == 1.0 and r["within"]["b_cubed"]["recall"] < 1.0
    assert r["across"]["conll_f1"] < 1.0


def test_damaged_inputs_are_reported_not_raised(gold, tmp_path, capsys):
    import shutil
    pred = tmp_path / "pred"
    shutil.copytree(gold, pred)
    (pred / parquet_path("mentions")).write_bytes(b"not parquet")
    assert main(["score", str(gold), str(pred), "--task", "mentions"]) == 1
    err = capsys.readouterr().err
    assert "cannot be read as the mentions config" in err and "Traceback" not in err
    (pred / "README.md").write_text("---\n---\nno labels\n", "utf-8")
    assert main(["score", str(gold), str(pred)]) == 1
    assert "does not declare the configs' labels" in capsys.readouterr().err
    assert main(["score", str(gold), str(tmp_path / "nowhere")]) == 1
    assert "not a release folder" in capsys.readouterr().err


def test_predictions_in_the_documents_json_are_built_and_scored(gold, tmp_path, capsys):
    """A project folder whose annotation files hold a system's output: one event dropped from the
    first document that has events costs exactly that trigger."""
    import json

    from peacetalks.reading.files import dump_records

    project = copy_checkout(tmp_path / "system")
    events = pq.read_table(gold / parquet_path("events")).to_pylist()
    path = project.documents / f"{events[0]['document']}.json"
    data = json.loads(path.read_text("utf-8"))
    dropped = data["events"].pop()
    path.write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    [result] = score(gold, project.root, ("events",))
    trigger = result["trigger_identification"]
    assert (trigger["gold"], trigger["predicted"], trigger["correct"]) == (len(events), len(events) - 1, len(events) - 1)
    assert all(r["micro"]["f1"] == 1.0 for r in score(gold, project.root, ("ner", "mentions")))
    assert dropped["id"] not in {e["id"] for e in data["events"]}
    # a project folder that does not validate is refused with its problems, never a traceback
    path.write_text(path.read_text("utf-8").replace('"type": "PER"', '"type": "PERSON"', 1), "utf-8")
    assert main(["score", str(gold), str(project.root), "--task", "events"]) == 1
    err = capsys.readouterr().err
    assert "does not build" in err and f"annotations/documents/{path.name}" in err
