"""``peacetalks agreement A B``: how far two annotations of the same documents agree, and where not.

A and B are project folders or git revisions of this project (a double annotation: two
annotators' branches, or their folders). Both must validate. Over the documents both
annotated, per layer (the layer table's layers, matched by their first span):

- span F1, exact (the same span) and overlap (spans that share a character, paired one to
  one, longest overlap first), with A as the reference (F1 is symmetric);
- on the exactly matched spans, each label column of the layer (the layer table's ``labels``):
  observed agreement and Cohen's kappa;
- links: a mention's entity, a quote's speaker (by the speaker mention's span);
- every disagreement as a pair of places, ``path:line`` in A and in B (``-`` where one side has
  nothing), so that the two annotators can sit down with both files and adjudicate.

``--record`` keeps the figures (not the disagreements) in annotations/agreement.json
(``recorded``; checked by schema/agreement.json), which the dataset card reports.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..checks.validate import Result, validate
from ..diagnostics.locate import Locator
from ..model.layers import LAYER_TABLE
from ..reading.project import Project
from ..reading.revisions import RevisionError, commit_of, extract_revision, is_revision


class AgreementError(Exception):
    """A or B cannot be read or does not validate; the message says which and why."""


@dataclass
class Side:
    name: str
    result: Result
    locator: Locator

    def place(self, document: str, pointer: str) -> str:
        """``path:line`` of an annotation in this side's file (a revision's path is prefixed with its name)."""
        project = self.result.project
        path = project.documents / f"{document}.json"
        line, _ = self.locator.locate(path, pointer)
        shown = project.rel(path)
        return f"{shown}:{line}" if self.name is None else f"{self.name}:{shown}:{line}"


def kappa(a: list, b: list) -> float:
    """Cohen's kappa of two label sequences (1.0 where both use one and the same label throughout)."""
    n = len(a)
    if not n:
        return 1.0
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def _open(source: str, root: Path, stack: ExitStack) -> tuple[str | None, Path]:
    """A project folder as it is, or a git revision of ``root`` extracted to a temporary folder."""
    path = Path(source)
    if (path / "annotations").is_dir() and (path / "corpus").is_dir():
        return None, path
    if not is_revision(root, source):
        raise AgreementError(f"{source!r} is neither a project folder nor a git revision of {root}")
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="peacetalks-agreement-")))
    try:
        extract_revision(root, source, tmp)
    except RevisionError as e:
        raise AgreementError(str(e)) from None
    return source, tmp


def _side(name: str | None, folder: Path, shown: str) -> Side:
    result = validate(Project(folder), drift=name is None, lints=False)
    if result.errors:
        raise AgreementError(f"{shown} does not validate ({len(result.errors)} errors); agreement needs valid "
                             "annotations: run `peacetalks validate` there")
    return Side(name, result, Locator())


def _frame(side: Side, layer) -> pl.DataFrame:
    table = getattr(side.result.tables, layer.name)
    start, end, _ = layer.spans[0].columns()
    frame = pl.from_arrow(table).filter(pl.col(start).is_not_null())
    return frame.rename({start: "_start", end: "_end"})


def compare(a: Side, b: Side) -> dict:
    docs_a = set(a.result.tables.mentions["document"].to_pylist()) | set(a.result.tables.events["document"].to_pylist())
    docs_b = set(b.result.tables.mentions["document"].to_pylist()) | set(b.result.tables.events["document"].to_pylist())
    common = docs_a & docs_b
    out = {"documents": len(common), "document_ids": sorted(common), "only_in_a": sorted(docs_a - docs_b), "only_in_b": sorted(docs_b - docs_a),
           "layers": {}, "disagreements": []}
    speaker_spans = {}
    for side in (a, b):
        m = pl.from_arrow(side.result.tables.mentions)
        speaker_spans[side.name] = {(r["document"], r["id"]): (r["start"], r["end"]) for r in m.iter_rows(named=True)}
    for layer in LAYER_TABLE:
        fa, fb = (_frame(s, layer).filter(pl.col("document").is_in(sorted(common))) for s in (a, b))
        ra, rb = fa.to_dicts(), fb.to_dicts()
        key = lambda r: (r["document"], r["_start"], r["_end"])  # noqa: E731
        ka: dict = {}
        for r in ra:
            ka.setdefault(key(r), r)
        kb: dict = {}
        for r in rb:
            kb.setdefault(key(r), r)
        exact = set(ka) & set(kb)
        # overlap: one to one, the longest overlaps first, within a document
        pairs = sorted(((min(x[2], y[2]) - max(x[1], y[1]), x, y) for x in ka for y in kb
                        if x[0] == y[0] and x[1] < y[2] and y[1] < x[2]), key=lambda p: (-p[0], p[1], p[2]))
        used_a, used_b = set(), set()
        for _, x, y in pairs:
            if x not in used_a and y not in used_b:
                used_a.add(x), used_b.add(y)

        def f1(matched: int) -> dict:
            p = matched / len(kb) if kb else 0.0
            r = matched / len(ka) if ka else 0.0
            return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else (1.0 if not ka and not kb else 0.0)}

        labels = {}
        for column in layer.labels:
            xs = [ka[k][column] for k in sorted(exact)]
            ys = [kb[k][column] for k in sorted(exact)]
            labels[column] = {"observed": sum(x == y for x, y in zip(xs, ys)) / len(xs) if xs else 1.0,
                              "kappa": kappa(xs, ys)}
            for k in sorted(exact):
                if ka[k][column] != kb[k][column]:
                    out["disagreements"].append({
                        "layer": layer.name, "what": f"{column}: {ka[k][column]} / {kb[k][column]}",
                        "a": a.place(k[0], f"/{layer.name}/{ka[k]['index']}/{column}"),
                        "b": b.place(k[0], f"/{layer.name}/{kb[k]['index']}/{column}")})
        links = {}
        if layer.name == "mentions":
            same = [ka[k]["entity"] == kb[k]["entity"] for k in exact if ka[k]["entity"] or kb[k]["entity"]]
            links["entity"] = sum(same) / len(same) if same else 1.0
        if layer.name == "quotes":
            def speaker(side, r):
                return speaker_spans[side.name].get((r["document"], r["speaker"]))
            same = [speaker(a, ka[k]) == speaker(b, kb[k]) for k in exact]
            links["speaker"] = sum(same) / len(same) if same else 1.0
        out["layers"][layer.name] = {"a": len(ka), "b": len(kb), "exact": f1(len(exact)),
                                     "overlap": f1(len(used_a)), "labels": labels, "links": links}
        for k in sorted(set(ka) - exact):
            out["disagreements"].append({"layer": layer.name, "what": f"span {k[1]}-{k[2]} only in A",
                                         "a": a.place(k[0], f"/{layer.name}/{ka[k]['index']}"), "b": "-"})
        for k in sorted(set(kb) - exact):
            out["disagreements"].append({"layer": layer.name, "what": f"span {k[1]}-{k[2]} only in B",
                                         "a": "-", "b": b.place(k[0], f"/{layer.name}/{kb[k]['index']}")})
    return out


def agreement(a: str, b: str, root: Path) -> dict:
    with ExitStack() as stack:
        sides = []
        for source in (a, b):
            name, folder = _open(source, root, stack)
            sides.append(_side(name, folder, source))
        return compare(*sides)


def _named(source: str, root: Path) -> str:
    """How a recorded agreement names one side: a revision by its commit, a folder by its name."""
    path = Path(source)
    if (path / "annotations").is_dir() and (path / "corpus").is_dir():
        return path.resolve().name
    return commit_of(root, source) or source


def recorded(result: dict, a: str, b: str, root: Path) -> dict:
    """The figures of ``result`` as annotations/agreement.json keeps them (schema/agreement.json), rounded
    to four places so that a re-run of the same comparison writes the same bytes."""
    def r4(x: float) -> float:
        return round(x, 4) + 0.0  # (no -0.0)
    return {"a": _named(a, root), "b": _named(b, root), "documents": result["document_ids"], "layers": {
        name: {"a": r["a"], "b": r["b"], "span_f1_exact": r4(r["exact"]["f1"]),
               "span_f1_overlap": r4(r["overlap"]["f1"]),
               "labels": {c: {"observed": r4(v["observed"]), "kappa": r4(v["kappa"])} for c, v in r["labels"].items()},
               "links": {k: r4(v) for k, v in r["links"].items()}}
        for name, r in result["layers"].items()}}


def render(result: dict, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(result, indent=1)
    out = [f"{result['documents']} documents annotated in both"]
    for side in ("a", "b"):
        if result[f"only_in_{side}"]:
            out.append(f"only in {side.upper()}: {', '.join(result[f'only_in_{side}'])}")
    for name, r in result["layers"].items():
        out.append(f"{name}: {r['a']} in A, {r['b']} in B; span F1 exact {r['exact']['f1']:.3f}, "
                   f"overlap {r['overlap']['f1']:.3f}")
        for column, v in r["labels"].items():
            out.append(f"  {column}: agreement {v['observed']:.3f}, Cohen's kappa {v['kappa']:.3f}")
        for link, v in r["links"].items():
            out.append(f"  {link}: agreement {v:.3f}")
    if result["disagreements"]:
        out += ["", f"{len(result['disagreements'])} disagreements (A / B):"]
        out += [f"  {d['a']}  {d['b']}  {d['layer']} {d['what']}" for d in result["disagreements"]]
    return "\n".join(out)
