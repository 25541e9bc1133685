"""Corpus statistics: counts per document, layer and label; entities by mentions and documents.

``peacetalks stats`` prints them (text, Markdown or JSON) and the dataset card carries
the Markdown. Everything is computed with polars over the validated tables.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pyarrow.compute as pc

from ..checks.validate import Result


def _counts(frame: pl.DataFrame, column: str, names: list[str]) -> dict[str, int]:
    """Every label of an inventory with its count (zero included), in inventory order."""
    got = dict(frame.group_by(column).agg(pl.len()).iter_rows()) if frame.height else {}
    return {name: int(got.get(name, 0)) for name in names}


def compute(result: Result, top: int = 15) -> dict:
    t, labels = result.tables, result.labels
    docs = pl.from_arrow(t.documents.select(["id", "title", "date", "outlet"]))
    mentions = pl.from_arrow(t.mentions)
    events = pl.from_arrow(t.events)
    args = pl.from_arrow(t.arguments)
    quotes = pl.from_arrow(t.quotes)
    flags = pl.from_arrow(t.flags)
    entities = pl.from_arrow(t.entities)
    xdoc = pl.from_arrow(t.xdoc_events)
    timex = mentions.filter(pl.col("entity").is_null())
    names = mentions.filter(pl.col("entity").is_not_null())

    # counts per document: every table holds its document's row number, counted with bincount
    n_docs = t.documents.num_rows

    def per_doc(frame: pl.DataFrame) -> pl.Series:
        numbers = frame["document"].to_arrow()
        numbers = pc.index_in(numbers, value_set=t.documents.column("id")).to_numpy(zero_copy_only=False)
        return pl.Series(np.bincount(numbers.astype(np.int64), minlength=n_docs).astype(np.int64))

    distinct = names.select("document", "entity").unique()  # (document, entity) pairs: entities per document
    table = docs.rename({"id": "document"}).with_columns(
        per_doc(names.filter(pl.col("level") == "NAM")).alias("NAM"),
        per_doc(names.filter(pl.col("level") == "NOM")).alias("NOM"),
        per_doc(names.filter(pl.col("level") == "PRO")).alias("PRO"),
        per_doc(timex).alias("timex"), per_doc(distinct).alias("entities"), per_doc(events).alias("events"),
        per_doc(args).alias("arguments"), per_doc(quotes).alias("quotes"), per_doc(flags).alias("flags"),
    ).sort("document")

    by_entity = (names.group_by("entity").agg(pl.len().alias("mentions"), pl.col("document").n_unique().alias("documents"))
                 .join(entities.select(pl.col("id").alias("entity"), "name", "type", "wikidata"), on="entity", how="right")
                 .with_columns(pl.col("mentions", "documents").fill_null(0))
                 .sort(["mentions", "documents", "entity"], descending=[True, True, False]))
    xdoc_counts = (events.filter(pl.col("xdoc").is_not_null()).group_by("xdoc")
                   .agg(pl.len().alias("mentions"), pl.col("document").n_unique().alias("documents"))
                   .join(xdoc.select(pl.col("id").alias("xdoc"), "name"), on="xdoc", how="right")
                   .with_columns(pl.col("mentions", "documents").fill_null(0)).sort("xdoc"))
    mention_types = {}
    for level in labels["MentionLevel"].names:
        mention_types[level] = _counts(names.filter(pl.col("level") == level), "type", labels.entity_types)
    return {
        "totals": {
            "documents": docs.height, "mentions": names.height, "time_expressions": timex.height,
            "entities": entities.height, "entities_mentioned": names["entity"].n_unique() if names.height else 0,
            "entities_in_several_documents": by_entity.filter(pl.col("documents") > 1).height,
            "entities_with_wikidata": entities.filter(pl.col("wikidata").is_not_null()).height,
            "events": events.height, "event_arguments": args.height,
            "cross_document_events": xdoc.height, "quotes": quotes.height, "flags": flags.height,
        },
        "documents": table.to_dicts(),
        "labels": {
            "mentions": mention_types,
            "time_expressions": _counts(timex, "type", labels.timex_types),
            "events": _counts(events, "type", labels["EventType"].names),
            "realis": _counts(events, "realis", labels["Realis"].names),
            "modality": _counts(events.filter(pl.col("modality").is_not_null()), "modality", labels["Modality"].names),
            "roles": _counts(args, "role", labels.roles),
            "quotes": _counts(quotes, "kind", labels["QuoteKind"].names),
            "flags": _counts(flags, "code", labels["FlagCode"].names),
        },
        "entities_by_mentions": by_entity.head(top).to_dicts(),
        "entities_without_wikidata": by_entity.filter(pl.col("wikidata").is_null()).select(
            "entity", "type", "mentions", "documents").to_dicts(),
        "entities_without_mentions": by_entity.filter(pl.col("mentions") == 0)["entity"].to_list(),
        "cross_document_events": xdoc_counts.to_dicts(),
    }


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(stats: dict, heading: str = "##", max_documents: int | None = None) -> str:
    """The statistics as Markdown; ``max_documents`` caps the per-document table (the card's)."""
    s = stats
    tot = s["totals"]
    docs = s["documents"] if max_documents is None else s["documents"][:max_documents]
    more = (f"\n\nThe first {len(docs)} of {len(s['documents'])} documents."
            if len(docs) < len(s["documents"]) else "")
    parts = [
        f"{heading} Totals",
        _table(["", "count"], [[k.replace("_", " "), v] for k, v in tot.items()]),
        f"{heading} Per document",
        _table(["document", "NAM", "NOM", "PRO", "timex", "entities", "events", "arguments", "quotes", "flags"],
               [[d["document"], d["NAM"], d["NOM"], d["PRO"], d["timex"], d["entities"], d["events"], d["arguments"],
                 d["quotes"], d["flags"]] for d in docs]) + more,
        f"{heading} Mentions by type and level",
        _table(["type", *s["labels"]["mentions"].keys()],
               [[t, *(s["labels"]["mentions"][lv][t] for lv in s["labels"]["mentions"])]
                for t in next(iter(s["labels"]["mentions"].values()))]),
    ]
    for key, title in (("time_expressions", "Time expressions"), ("events", "Event types"), ("realis", "Realis"),
                       ("modality", "Modality"), ("roles", "Argument roles"), ("quotes", "Quote kinds"),
                       ("flags", "Quality flags")):
        parts += [f"{heading} {title}", _table(["label", "count"], [[f"`{k}`", v] for k, v in s["labels"][key].items()])]
    parts += [
        f"{heading} Entities by number of mentions (top {len(s['entities_by_mentions'])})",
        _table(["entity", "type", "wikidata", "mentions", "documents"],
               [[e["entity"], e["type"], e["wikidata"] or "–", e["mentions"], e["documents"]]
                for e in s["entities_by_mentions"]]),
        f"{heading} Cross-document events",
        _table(["event", "name", "event mentions", "documents"],
               [[x["xdoc"], x["name"], x["mentions"], x["documents"]] for x in s["cross_document_events"]]),
        f"Entities without a Wikidata id ({len(s['entities_without_wikidata'])}): "
        + (", ".join(f"`{e['entity']}`" for e in s["entities_without_wikidata"]) or "none") + ".",
    ]
    return "\n\n".join(parts) + "\n"


def text(stats: dict) -> str:
    s = stats
    out = ["peacetalks corpus statistics", ""]
    out += [f"  {k.replace('_', ' '):32} {v}" for k, v in s["totals"].items()]
    out += ["", "per document:  NAM  NOM  PRO timex entities events args quotes flags"]
    for d in s["documents"]:
        out.append(f"  {d['document']}  {d['NAM']:4} {d['NOM']:4} {d['PRO']:4} {d['timex']:5} {d['entities']:8} "
                   f"{d['events']:6} {d['arguments']:4} {d['quotes']:6} {d['flags']:5}")
    for key, values in s["labels"].items():
        if key == "mentions":
            for level, by_type in values.items():
                out += ["", f"mentions ({level}):"] + [f"  {k:34} {v}" for k, v in by_type.items()]
        else:
            out += ["", f"{key.replace('_', ' ')}:"] + [f"  {k:34} {v}" for k, v in values.items()]
    out += ["", "entities by mentions (mentions, documents):"]
    out += [f"  {e['entity']:34} {e['mentions']:4} {e['documents']:3}  {e['wikidata'] or '-'}" for e in s["entities_by_mentions"]]
    out += ["", "cross-document events (event mentions, documents):"]
    out += [f"  {x['xdoc']:42} {x['mentions']:3} {x['documents']:3}" for x in s["cross_document_events"]]
    out += ["", f"entities without a Wikidata id: {len(s['entities_without_wikidata'])}",
            "  " + ", ".join(e["entity"] for e in s["entities_without_wikidata"])]
    if s["entities_without_mentions"]:
        out += [f"entities without mentions: {', '.join(s['entities_without_mentions'])}"]
    return "\n".join(out)


def render(stats: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(stats, ensure_ascii=False, indent=1)
    if fmt == "markdown":
        return markdown(stats)
    return text(stats)
