"""Corpus statistics: counts per document, layer and label; entities by mentions and documents.

``peacetalks stats`` prints them (text, Markdown or JSON) and the dataset card carries
the Markdown. They are computed in two steps, so that a corpus of any size is summed
shard by shard without holding its tables: ``partial`` counts the documents of one shard
(polars, on the shard's tables), ``combine`` adds the partial counts up and joins them
with the registries. Every count is a sum over documents, so the result does not depend
on how the documents were sharded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from ..checks.validate import Result
from ..model.labels import Labels
from ..model.layers import LAYER, LAYER_TABLE, SHOWN_LAYERS
from ..reading.annotations import DOCUMENT_TABLES, Tables, merge

#: the per-document counts, in the order the statistics list them: the mentions by level, the time
#: expressions and the entities they link to; then every other layer's entries, each followed by its
#: entries' own lists (an event's arguments); last, the mentions in all
PER_DOCUMENT = ("NAM", "NOM", "PRO", "timex", "entities",
                *(name for layer in SHOWN_LAYERS if layer != "mentions" for name in (layer, *LAYER[layer].lists)),
                "mentions")
#: what the statistics read of a table besides its document and (a layer's) label columns
_READ = {"mentions": ("entity",), "events": ("xdoc",), "flags": ("note",), "arguments": ("role",)}


@dataclass
class Partial:
    """The counts of some documents: what ``combine`` sums."""

    documents: pl.DataFrame  # one row per document: id, title, date, outlet and its PER_DOCUMENT counts
    labels: pl.DataFrame  # key, label, count: how often each label of each column occurs
    entities: pl.DataFrame  # entity, mentions, documents, names (its NAM mentions)
    xdoc: pl.DataFrame  # xdoc, mentions, documents
    flags: pl.DataFrame  # document, code, note


@dataclass
class Summary:
    """The statistics (``stats``, as ``peacetalks stats`` prints them) and what the card adds to them."""

    stats: dict
    counts: dict[str, dict[str, int]]  # "mentions.type", "mentions.level", "events.type", ...: label -> count
    documents: pl.DataFrame  # per document: id, title, date, outlet and the PER_DOCUMENT counts
    flags: pl.DataFrame  # document, code, note
    coverage: dict  # Wikidata link coverage (tools/links.py)


def _label_counts(key: str, frame: pl.DataFrame, column: str) -> pl.DataFrame:
    return (frame.filter(pl.col(column).is_not_null()).group_by(column).agg(pl.len().cast(pl.Int64).alias("count"))
            .select(pl.lit(key).alias("key"), pl.col(column).cast(pl.Utf8).alias("label"), "count"))


def partial(tables: Tables) -> Partial:
    """The counts of the documents in ``tables`` (a shard, or the whole corpus)."""
    docs = pl.from_arrow(tables.documents.select(["id", "title", "date", "outlet"]))
    frames = {name: pl.from_arrow(getattr(tables, name).select(  # every layer and every list inside its entries
        ["document", *(LAYER[name].labels if name in LAYER else ()), *_READ.get(name, ())])) for name in DOCUMENT_TABLES}
    mentions, events, flags, args = frames["mentions"], frames["events"], frames["flags"], frames["arguments"]
    timex = mentions.filter(pl.col("entity").is_null())
    names = mentions.filter(pl.col("entity").is_not_null())

    def per_doc(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.group_by("document").agg(pl.len().cast(pl.Int64).alias(name))

    counted = {
        "NAM": per_doc(names.filter(pl.col("level") == "NAM"), "NAM"),
        "NOM": per_doc(names.filter(pl.col("level") == "NOM"), "NOM"),
        "PRO": per_doc(names.filter(pl.col("level") == "PRO"), "PRO"),
        "timex": per_doc(timex, "timex"),
        "entities": per_doc(names.select("document", "entity").unique(), "entities"),
        **{name: per_doc(frames[name], name) for name in DOCUMENT_TABLES},  # rows of every layer and list
    }
    table = docs
    for name in PER_DOCUMENT:
        table = table.join(counted[name], left_on="id", right_on="document", how="left", maintain_order="left")
    table = table.with_columns(pl.col(list(PER_DOCUMENT)).fill_null(0))
    labels = pl.concat([
        *(_label_counts(f"mentions:{level}", names.filter(pl.col("level") == level), "type")
          for level in ("NAM", "NOM", "PRO")),
        _label_counts("timex", timex, "type"),
        # every label column of every layer (the layer table's ``labels``), and the arguments' roles
        *(_label_counts(f"{layer.name}.{column}", frames[layer.name], column)
          for layer in LAYER_TABLE for column in layer.labels),
        _label_counts("arguments.role", args, "role"),
    ])
    entities = names.group_by("entity").agg(pl.len().cast(pl.Int64).alias("mentions"),
                                            pl.col("document").n_unique().cast(pl.Int64).alias("documents"),
                                            (pl.col("level") == "NAM").sum().cast(pl.Int64).alias("names"))
    xdoc = (events.filter(pl.col("xdoc").is_not_null()).group_by("xdoc")
            .agg(pl.len().cast(pl.Int64).alias("mentions"), pl.col("document").n_unique().cast(pl.Int64).alias("documents")))
    return Partial(table, labels, entities, xdoc, flags)


def combine(parts: list[Partial], entities: pa.Table, xdoc_events: pa.Table, labels: Labels, top: int = 15) -> Summary:
    """The partial counts of every shard (in document order) added up, with the registries."""
    parts = parts or [partial(merge([], None, None))]  # (no documents: the counts of none)
    docs = pl.concat([p.documents for p in parts])
    sums = pl.concat([p.labels for p in parts]).group_by("key", "label").agg(pl.col("count").sum())
    counts: dict[str, dict[str, int]] = {}
    for key, label, count in sums.iter_rows():
        counts.setdefault(key, {})[label] = int(count)
    registry = pl.from_arrow(entities)
    xdoc = pl.from_arrow(xdoc_events)
    named = pl.concat([p.entities for p in parts]).group_by("entity").agg(pl.col("mentions", "documents", "names").sum())
    by_entity = (named.select("entity", "mentions", "documents")
                 .join(registry.select(pl.col("id").alias("entity"), "name", "type", "wikidata"), on="entity", how="right")
                 .with_columns(pl.col("mentions", "documents").fill_null(0))
                 .sort(["mentions", "documents", "entity"], descending=[True, True, False]))
    xdoc_sums = pl.concat([p.xdoc for p in parts]).group_by("xdoc").agg(pl.col("mentions", "documents").sum())
    xdoc_counts = (xdoc_sums.join(xdoc.select(pl.col("id").alias("xdoc"), "name"), on="xdoc", how="right")
                   .with_columns(pl.col("mentions", "documents").fill_null(0)).sort("xdoc"))
    flags = pl.concat([p.flags for p in parts])

    def inventory(key: str, names: list[str]) -> dict[str, int]:
        got = counts.get(key, {})
        return {name: int(got.get(name, 0)) for name in names}

    total = docs.select(pl.col(list(PER_DOCUMENT)).sum()).row(0, named=True)
    table = docs.rename({"id": "document"}).select("document", "title", "date", "outlet",
                                                  *(c for c in PER_DOCUMENT if c != "mentions")).sort("document")
    stats = {
        "totals": {
            "documents": docs.height, "mentions": total["mentions"] - total["timex"], "time_expressions": total["timex"],
            "entities": registry.height, "entities_mentioned": named.filter(pl.col("mentions") > 0).height,
            "entities_in_several_documents": by_entity.filter(pl.col("documents") > 1).height,
            "entities_with_wikidata": registry.filter(pl.col("wikidata").is_not_null()).height,
            "events": total["events"], "event_arguments": total["arguments"],
            "cross_document_events": xdoc.height, "quotes": total["quotes"], "flags": total["flags"],
        },
        "documents": table.to_dicts(),
        "labels": {
            "mentions": {level: inventory(f"mentions:{level}", labels.entity_types)
                         for level in labels["MentionLevel"].names},
            "time_expressions": inventory("timex", labels.timex_types),
            "events": inventory("events.type", labels["EventType"].names),
            "realis": inventory("events.realis", labels["Realis"].names),
            "modality": inventory("events.modality", labels["Modality"].names),
            "roles": inventory("arguments.role", labels.roles),
            "quotes": inventory("quotes.kind", labels["QuoteKind"].names),
            "flags": inventory("flags.code", labels["FlagCode"].names),
        },
        "entities_by_mentions": by_entity.head(top).to_dicts(),
        "entities_without_wikidata": by_entity.filter(pl.col("wikidata").is_null()).select(
            "entity", "type", "mentions", "documents").to_dicts(),
        "entities_without_mentions": by_entity.filter(pl.col("mentions") == 0)["entity"].to_list(),
        "cross_document_events": xdoc_counts.to_dicts(),
    }
    return Summary(stats, counts, docs, flags, coverage(registry, named.select("entity", "names")))


def name_counts(mentions: pl.DataFrame) -> pl.DataFrame:
    """Each entity's name (NAM) mentions: entity, names."""
    return (mentions.filter(pl.col("entity").is_not_null()).group_by("entity")
            .agg((pl.col("level") == "NAM").sum().cast(pl.Int64).alias("names")))


def coverage(entities: pl.DataFrame, names: pl.DataFrame) -> dict:
    """Link coverage of the named entities (those with a NAM mention; ``names``: entity, names), by type."""
    named = names.filter(pl.col("names") > 0)
    frame = (entities.join(named, left_on="id", right_on="entity", how="inner")
             .with_columns(pl.col("wikidata").is_not_null().alias("linked"),
                           (pl.col("wikidata_checked").struct.field("wikidata") == pl.col("wikidata"))
                           .fill_null(False).alias("verified")))
    by_type = (frame.group_by("type").agg(pl.len().alias("named"), pl.col("linked").sum().alias("linked"),
                                          pl.col("verified").sum().alias("verified"))
               .sort("type"))
    rows = {r["type"]: {"named": r["named"], "linked": r["linked"], "verified": r["verified"],
                        "unverified": r["linked"] - r["verified"], "unlinked": r["named"] - r["linked"]}
            for r in by_type.iter_rows(named=True)}
    total = {k: sum(r[k] for r in rows.values()) for k in ("named", "linked", "verified", "unverified", "unlinked")}
    return {
        "by_type": rows, "total": total,
        "name_mentions": {"all": int(named["names"].sum() or 0), "linked": int(frame.filter(pl.col("linked"))["names"].sum() or 0)},
        "unverified": [{"entity": r["id"], "wikidata": r["wikidata"]} for r in
                       frame.filter(pl.col("linked") & ~pl.col("verified")).sort("id").iter_rows(named=True)],
        "unlinked": [{"entity": r["id"], "name": r["name"], "type": r["type"], "names": r["names"]} for r in
                     frame.filter(~pl.col("linked")).sort(["names", "id"], descending=[True, False]).iter_rows(named=True)],
    }


def compute(result: Result, top: int = 15) -> dict:
    """The statistics of a validated corpus (``peacetalks stats``)."""
    return summarise(result, top).stats


def summarise(result: Result, top: int = 15) -> Summary:
    t = result.tables
    return combine([partial(t)], t.entities, t.xdoc_events, result.labels, top)


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
