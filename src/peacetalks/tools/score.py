"""``peacetalks score GOLD PRED``: a system's output scored against the corpus, as the field reports it.

GOLD and PRED are release folders (``peacetalks build``, or a system's output written in
the same configs), or project folders: a checkout whose ``annotations/documents/*.json`` hold a
system's output in the documents' own JSON, built first (it must validate, as a contribution
must). Rows are matched by their ids, labels by their names (each side's card declares its
ClassLabels), so the two need not share a label order.

- ``ner``: the ``ner`` config's BIO tags, chunked as conlleval chunks them (a chunk starts at
  ``B-X``, or at ``I-X`` after ``O`` or another type, and ends where the next starts or at
  ``O``); exact chunks (same sentence, tokens and type) count. Precision, recall and F1 per
  type, micro-averaged over every chunk and macro-averaged over the types, and token accuracy,
  as conlleval prints them. Each sentence of PRED must have the tokens of GOLD's.
- ``mentions``: every mention of the ``mentions`` config, nested ones too, by exact span and
  type, per type and per level.
- ``linking``: on the gold mentions whose span PRED also has, the accuracy of the entity id and
  of the Wikidata id; end to end, P/R/F1 of (span, Wikidata id) pairs.
- ``events``: as ACE and RAMS report them: trigger identification (the trigger's span) and
  classification (span and type); argument identification (the event's trigger span and the
  argument mention's span) and role classification (the same and the role; the event type
  too, so a wrong event type makes its arguments wrong).
- ``quotes``: as PARC evaluations report them: the content span exact, and by token overlap
  (each gold content's best Jaccard overlap with a predicted one, over its whitespace tokens:
  soft P/R/F1); on matched contents, the cue span exact and the speaker by its entity (entity
  level): the share of gold (content, cue) and (content, speaker) pairs that PRED has. A content
  with several sources (nested attribution) is one span with several pairs.

- ``coref``: the CoNLL-2012 metrics, MUC, B³ and CEAF-e, and their average (the CoNLL F1),
  computed by scorch (``pip install peacetalks-corpus[score]``) over the mentions linked to an
  entity: ``within`` documents (each document's clusters, mentions qualified by their document)
  and ``across`` documents (one cluster per registry entity over the corpus, as ECB+ scores
  cross-document coreference). Mentions are matched by span; a predicted mention no gold
  mention has is scored as scorch scores it (an extra singleton or cluster member).

Scores are fractions in [0, 1]; a measure over nothing (no gold and no predicted chunk of a
type) is left out of macro averages rather than counted as 0 or 1.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from ..reading.project import Project
from ..release.build import BuildError, build
from ..release.layout import parquet_path
from .export import tag_names

TASKS = ("ner", "mentions", "linking", "events", "quotes", "coref")


class ScoreError(Exception):
    """GOLD and PRED cannot be compared; the message names the file and the row."""


def chunks(tags: list[str]) -> list[tuple[int, int, str]]:
    """conlleval's chunks of one sentence's IOB tags: (first token, end token, type)."""
    out, start, kind = [], None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, t = tag.partition("-") if tag != "O" else ("O", "", None)
        begins = prefix == "B" or (prefix == "I" and (kind is None or t != kind))
        if start is not None and (prefix == "O" or begins):
            out.append((start, i, kind))
            start, kind = None, None
        if begins:
            start, kind = i, t
    return out


@dataclass
class Counts:
    """True positives, false positives and false negatives by label."""

    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)

    def add(self, gold: set, pred: set, label=lambda item: item[-1]) -> None:
        for item in gold & pred:
            self.tp[label(item)] += 1
        for item in pred - gold:
            self.fp[label(item)] += 1
        for item in gold - pred:
            self.fn[label(item)] += 1

    def report(self) -> dict:
        def prf(tp: int, fp: int, fn: int) -> dict:
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                    "gold": tp + fn, "predicted": tp + fp, "correct": tp}

        labels = sorted(set(self.tp) | set(self.fp) | set(self.fn))
        by = {label: prf(self.tp[label], self.fp[label], self.fn[label]) for label in labels}
        micro = prf(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))
        macro = {k: sum(v[k] for v in by.values()) / len(by) if by else 0.0 for k in ("precision", "recall", "f1")}
        return {"micro": micro, "macro": macro, "by_label": by}


def _rows(release: Path, config: str, columns: list[str]) -> list[dict]:
    path = Path(release) / parquet_path(config)
    if not path.is_file():
        raise ScoreError(f"{path}: missing; GOLD and PRED are release folders with the {config} config")
    try:
        return pq.read_table(path, columns=columns).to_pylist()
    except Exception as e:  # noqa: BLE001 - a damaged or foreign file is reported, never a traceback
        raise ScoreError(f"{path}: cannot be read as the {config} config ({type(e).__name__}: {e})") from None


def score_ner(gold: Path, pred: Path) -> dict:
    names = {side: tag_names(side) for side in (gold, pred)}
    predicted = {r["id"]: r for r in _rows(pred, "ner", ["id", "tokens", "ner_tags"])}
    counts, tokens, right = Counts(), 0, 0
    for row in _rows(gold, "ner", ["id", "tokens", "ner_tags"]):
        other = predicted.pop(row["id"], None)
        g = [names[gold][k] for k in row["ner_tags"]]
        if other is None:
            p = ["O"] * len(g)
        elif other["tokens"] != row["tokens"]:
            raise ScoreError(f"{pred / parquet_path('ner')}: sentence {row['id']}: its tokens are not the gold "
                             "sentence's; a prediction tags the gold tokens")
        else:
            p = [names[pred][k] for k in other["ner_tags"]]
        counts.add({(row["id"], *c) for c in chunks(g)}, {(row["id"], *c) for c in chunks(p)})
        tokens += len(g)
        right += sum(a == b for a, b in zip(g, p))
    if predicted:
        raise ScoreError(f"{pred / parquet_path('ner')}: sentence {next(iter(predicted))} is not in the gold "
                         f"release ({len(predicted)} such sentence(s))")
    return {"task": "ner", **counts.report(), "token_accuracy": right / tokens if tokens else 0.0}


def _mentions(release: Path) -> list[dict]:
    types = tag_names(release, "mentions", "type")
    levels = tag_names(release, "mentions", "level")
    return [{**r, "type": types[r["type"]], "level": levels[r["level"]] if r["level"] >= 0 else None}
            for r in _rows(release, "mentions", ["document", "start", "end", "type", "level", "entity", "wikidata"])]


def score_mentions(gold: Path, pred: Path) -> dict:
    g, p = _mentions(gold), _mentions(pred)
    by_type, by_level = Counts(), Counts()
    by_type.add({(m["document"], m["start"], m["end"], m["type"]) for m in g},
                {(m["document"], m["start"], m["end"], m["type"]) for m in p})
    by_level.add({(m["document"], m["start"], m["end"], m["level"] or "time") for m in g},
                 {(m["document"], m["start"], m["end"], m["level"] or "time") for m in p})
    return {"task": "mentions", **by_type.report(), "by_level": by_level.report()["by_label"]}


def score_linking(gold: Path, pred: Path) -> dict:
    g = [m for m in _mentions(gold) if m["entity"] is not None]
    p = {(m["document"], m["start"], m["end"]): m for m in _mentions(pred)}
    matched = [(m, p[(m["document"], m["start"], m["end"])]) for m in g if (m["document"], m["start"], m["end"]) in p]
    linked = [(a, b) for a, b in matched if a["wikidata"] is not None]
    end_to_end = Counts()
    end_to_end.add({(m["document"], m["start"], m["end"], "wikidata", m["wikidata"]) for m in g if m["wikidata"]},
                   {(m["document"], m["start"], m["end"], "wikidata", m["wikidata"]) for m in p.values() if m["wikidata"]},
                   label=lambda item: item[3])
    return {"task": "linking", "gold_mentions": len(g), "matched_mentions": len(matched),
            "entity_accuracy": sum(a["entity"] == b["entity"] for a, b in matched) / len(matched) if matched else 0.0,
            "wikidata_accuracy": sum(a["wikidata"] == b["wikidata"] for a, b in linked) / len(linked) if linked else 0.0,
            "end_to_end": end_to_end.report()["micro"]}


def _spans_of_mentions(release: Path) -> dict[tuple[str, str], tuple[int, int]]:
    return {(r["document"], r["id"]): (r["start"], r["end"])
            for r in _rows(release, "mentions", ["document", "id", "start", "end"])}


def _events(release: Path) -> tuple[set, set, set, set]:
    types = tag_names(release, "events", "type")
    roles = tag_names(release, "events", "arguments", "role")
    spans = _spans_of_mentions(release)
    triggers, typed, args, roled = set(), set(), set(), set()
    for e in _rows(release, "events", ["document", "trigger_start", "trigger_end", "type", "arguments"]):
        trigger = (e["document"], e["trigger_start"], e["trigger_end"])
        triggers.add((*trigger, "trigger"))
        typed.add((*trigger, types[e["type"]]))
        for a in e["arguments"]:
            where = spans.get((e["document"], a["mention"]))
            if where is not None:
                args.add((*trigger, *where, "argument"))
                roled.add((*trigger, types[e["type"]], *where, roles[a["role"]]))
    return triggers, typed, args, roled


def score_events(gold: Path, pred: Path) -> dict:
    g, p = _events(gold), _events(pred)
    out = {"task": "events"}
    for name, k, label in (("trigger_identification", 0, None), ("trigger_classification", 1, None),
                           ("argument_identification", 2, None), ("role_classification", 3, None)):
        counts = Counts()
        counts.add(g[k], p[k], label=lambda item: item[-1] if k in (1, 3) else "all")
        report = counts.report()
        out[name] = report["micro"] | ({"by_label": report["by_label"]} if k in (1, 3) else {})
    return out


def _quotes(release: Path) -> dict[tuple, list[dict]]:
    """The quotes by content span (a content with several sources is one span with several rows)."""
    rows = _rows(release, "quotes", ["document", "content_start", "content_end", "content_text", "cue_start",
                                     "cue_end", "speaker_entity"])
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault((r["document"], r["content_start"], r["content_end"]), []).append(r)
    return out


def _words(r: dict) -> set[tuple[int, int]]:
    """A content's whitespace tokens, as offsets."""
    out, at = set(), r["content_start"]
    for w in r["content_text"].split(" "):
        if w:
            out.add((at, at + len(w)))
        at += len(w) + 1
    return out


def _overlap(ours: dict[tuple, list[dict]], theirs: dict[tuple, list[dict]]) -> float:
    """The mean over our contents of the best Jaccard overlap of words with one of theirs in the same document."""
    by_doc: dict[str, list[set]] = {}
    for key, rows in theirs.items():
        by_doc.setdefault(key[0], []).append(_words(rows[0]))
    total = 0.0
    for key, rows in ours.items():
        a = _words(rows[0])
        total += max((len(a & b) / len(a | b) for b in by_doc.get(key[0], []) if a | b), default=0.0)
    return total / len(ours) if ours else 0.0


def score_quotes(gold: Path, pred: Path) -> dict:
    g, p = _quotes(gold), _quotes(pred)
    exact = Counts()
    exact.add({(*k, "content") for k in g}, {(*k, "content") for k in p})
    precision, recall = _overlap(p, g), _overlap(g, p)
    matched = [k for k in g if k in p]

    def pairs(side: dict, field: str) -> set:
        return {(k, tuple(r[f] for f in field.split(","))) for k in matched for r in side[k]
                if r[field.split(",")[0]] is not None}

    cues, speakers = pairs(g, "cue_start,cue_end"), pairs(g, "speaker_entity")
    return {"task": "quotes", "content_exact": exact.report()["micro"],
            "content_overlap": {"precision": precision, "recall": recall,
                                "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0},
            "matched": len(matched),
            "cue_accuracy": len(cues & pairs(p, "cue_start,cue_end")) / len(cues) if cues else 0.0,
            "speaker_accuracy": len(speakers & pairs(p, "speaker_entity")) / len(speakers) if speakers else 0.0}


def _clusters(release: Path, within: bool) -> list[set]:
    out: dict[tuple, set] = {}
    for m in _rows(release, "mentions", ["document", "start", "end", "entity"]):
        if m["entity"] is not None:
            key = (m["document"], m["entity"]) if within else (m["entity"],)
            out.setdefault(key, set()).add((m["document"], m["start"], m["end"]))
    return [out[k] for k in sorted(out)]


def score_coref(gold: Path, pred: Path) -> dict:
    try:
        from scorch import scores  # (an optional extra: the coref metrics only)
    except ImportError:
        raise ScoreError("the coref task needs scorch: pip install 'peacetalks-corpus[score]'") from None
    out = {"task": "coref"}
    for name, within in (("within", True), ("across", False)):
        key, response = _clusters(gold, within), _clusters(pred, within)
        metrics = {}
        for metric, function in (("muc", scores.muc), ("b_cubed", scores.b_cubed), ("ceaf_e", scores.ceaf_e)):
            r, p, f = (float(x) for x in function(key, response))
            metrics[metric] = {"precision": p, "recall": r, "f1": f}
        metrics["conll_f1"] = sum(m["f1"] for m in metrics.values()) / 3
        out[name] = metrics
    return out


SCORERS = {"coref": score_coref, "ner": score_ner, "mentions": score_mentions, "linking": score_linking, "events": score_events,
           "quotes": score_quotes}


def score(gold: Path, pred: Path, tasks: tuple[str, ...] = TASKS) -> list[dict]:
    """Each task's scores of PRED against GOLD (release or project folders; see the module's docstring)."""
    with tempfile.TemporaryDirectory(prefix="peacetalks-score-") as tmp:
        sides = []
        for name, side in (("gold", Path(gold)), ("pred", Path(pred))):
            if (side / "annotations" / "documents").is_dir() and (side / "corpus").is_dir():  # a project folder
                try:
                    side = build(Project(side), Path(tmp) / name).path
                except BuildError as e:
                    raise ScoreError(f"{side}: a project folder that does not build:\n{e}") from None
            sides.append(side)
        return _score(*sides, tasks)


def _score(gold: Path, pred: Path, tasks: tuple[str, ...]) -> list[dict]:
    for side in (gold, pred):
        if not (Path(side) / "README.md").is_file():
            raise ScoreError(f"{side}: not a release folder (it has no README.md card declaring its labels)")
        try:
            tag_names(Path(side))
        except Exception as e:  # noqa: BLE001 - a card without the ner labels is reported, never a traceback
            raise ScoreError(f"{Path(side) / 'README.md'}: its card does not declare the configs' labels "
                             f"({type(e).__name__}: {e})") from None
    return [SCORERS[task](Path(gold), Path(pred)) for task in tasks]


def render(results: list[dict], fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(results, indent=1)
    out = []
    for r in results:
        if r["task"] in ("linking", "events", "quotes", "coref"):
            rows = {"linking": lambda: [("entity accuracy", r["entity_accuracy"]),
                                        ("Wikidata accuracy", r["wikidata_accuracy"]),
                                        ("end-to-end F1", r["end_to_end"]["f1"])],
                    "events": lambda: [(k.replace("_", " ") + " F1", r[k]["f1"]) for k in
                                       ("trigger_identification", "trigger_classification",
                                        "argument_identification", "role_classification")],
                    "quotes": lambda: [("content exact F1", r["content_exact"]["f1"]),
                                       ("content overlap F1", r["content_overlap"]["f1"]),
                                       ("cue accuracy", r["cue_accuracy"]),
                                       ("speaker accuracy", r["speaker_accuracy"])],
                    "coref": lambda: [(f"{scope} documents: " + ("CoNLL F1 (average)" if metric == "conll_f1" else
                                                                  f"{metric.replace('_', '-')} F1"),
                                       v if metric == "conll_f1" else v["f1"])
                                      for scope in ("within", "across") for metric, v in r[scope].items()]}[r["task"]]()
            if fmt == "markdown":
                out += [f"### {r['task']}", "", "| measure | value |", "|---|---:|",
                        *(f"| {k} | {v:.4f} |" for k, v in rows), ""]
            else:
                out += [f"{r['task']}:", *(f"  {k:38} {v:.4f}" for k, v in rows), ""]
            continue
        lines = [(label, v) for label, v in r["by_label"].items()] + [("micro", r["micro"])]
        if fmt == "markdown":
            out += [f"### {r['task']}", "", "| label | precision | recall | F1 | gold | predicted |",
                    "|---|---:|---:|---:|---:|---:|",
                    *(f"| {k} | {v['precision']:.4f} | {v['recall']:.4f} | {v['f1']:.4f} | {v['gold']} | {v['predicted']} |"
                      for k, v in lines),
                    f"| macro | {r['macro']['precision']:.4f} | {r['macro']['recall']:.4f} | {r['macro']['f1']:.4f} | | |", ""]
        else:
            head = f"{r['task']}: precision {r['micro']['precision']:.4f}, recall {r['micro']['recall']:.4f}, " \
                   f"F1 {r['micro']['f1']:.4f} (macro F1 {r['macro']['f1']:.4f})"
            if "token_accuracy" in r:
                head += f"; token accuracy {r['token_accuracy']:.4f}"
            out += [head, *(f"  {k:12} P {v['precision']:.4f}  R {v['recall']:.4f}  F1 {v['f1']:.4f}  "
                            f"(gold {v['gold']}, predicted {v['predicted']})" for k, v in r["by_label"].items()), ""]
    return "\n".join(out).rstrip("\n")
