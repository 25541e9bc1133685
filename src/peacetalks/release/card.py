"""The dataset card (README.md of a release): Hub YAML from ``datasets`` plus human text.

Every label list and number in the card is read from the label inventory, the corpus
statistics and the configs' sizes, never written by hand.
"""

from __future__ import annotations

import polars as pl
from datasets import Features
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCardData

from ..defaults import CARD_ROWS
from ..model.labels import Labels
from ..model.layers import LAYER, LAYER_TABLE, SHOWN_LAYERS
from .layout import CONFIGS, DEFAULT_CONFIG, SPLIT, parquet_path
from .stats import Summary
from .stats import markdown as stats_markdown

# The terms of a release: two licences in one dataset, so the Hub's `license: other` with a
# name and a link to the release's LICENSE.md (the Hub's dataset card convention).
LICENSE_NAME = "cc-by-4.0-annotations-texts-by-their-publishers"
LICENSE_FILE = "LICENSE.md"
ANNOTATIONS_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
LICENSING = f"""\
- **Annotations** (entity mentions and the entity registry, time expressions, events and
  their arguments, quotes, quality flags, the `ner` tags) and the code that built them:
  [Creative Commons Attribution 4.0 International (CC BY 4.0)]({ANNOTATIONS_LICENSE}).
- **Article texts** (the `text` and `title` columns, and every span text and token cut
  from them): the publishers' own, **not** licensed by this dataset. They are included
  for research on the annotations; any other use needs the publishers' permission.
  Cite the original outlets along with this corpus."""


def license_text(version: str) -> str:
    """LICENSE.md of a release."""
    return f"# Licensing of peacetalks {version}\n\nThis dataset combines material under two different terms:\n\n{LICENSING}\n"


def size_category(n: int) -> str:
    """The Hub's size bucket for ``n`` examples."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                        (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")):
        if n < limit:
            return name
    return "n>1T" if n > 10**12 else "1B<n<10B"


def _yaml(sizes: dict[str, tuple[int, int]], feats: dict[str, Features]) -> DatasetCardData:
    data = DatasetCardData(
        language=["en"],
        license="other",
        license_name=LICENSE_NAME,
        license_link=LICENSE_FILE,
        pretty_name="peacetalks: European diplomacy around the Russia-Ukraine peace talks",
        task_categories=["token-classification", "text-classification"],
        task_ids=["named-entity-recognition", "entity-linking-classification"],
        size_categories=[size_category(sizes[DEFAULT_CONFIG][0])],
        annotations_creators=["expert-generated"],
        language_creators=["found"],
        multilinguality=["monolingual"],
        source_datasets=["original"],
        tags=["news", "diplomacy", "entity-linking", "event-extraction", "quote-attribution", "coreference", "wikidata"],
    )
    MetadataConfigs({
        config: {"data_files": [{"split": SPLIT, "path": parquet_path(config)}], **({"default": True} if config == DEFAULT_CONFIG else {})}
        for config in CONFIGS
    }).to_dataset_card_data(data)
    infos = {}
    for config in CONFIGS:
        splits = SplitDict()
        rows, nbytes = sizes[config]
        splits.add(SplitInfo(name=SPLIT, num_bytes=nbytes, num_examples=rows))
        infos[config] = DatasetInfo(features=feats[config], config_name=config, splits=splits)
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def _table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def agreement_section(agreement: dict | None) -> str:
    """The card's inter-annotator agreement: the figures annotations/agreement.json records, if any."""
    if not agreement:
        return ("No double annotation is recorded for this version. When one is (`peacetalks agreement A B "
                "--record`, CONTRIBUTING.md §6), its figures appear here.")
    rows = []
    for name, r in agreement["layers"].items():
        kappas = ", ".join(f"{k} κ {v['kappa']:.3f}" for k, v in r["labels"].items()) or "–"
        links = ", ".join(f"{k} {v:.3f}" for k, v in r["links"].items()) or "–"
        rows.append([name, r["a"], r["b"], f"{r['span_f1_exact']:.3f}", f"{r['span_f1_overlap']:.3f}", kappas, links])
    n = len(agreement["documents"])
    return (f"{n} document{'s' * (n != 1)} were annotated twice, independently (`{agreement['a']}` and "
            f"`{agreement['b']}`), and compared with `peacetalks agreement`; the released annotations are the "
            "adjudicated ones. Span F1 counts a span as matched when both annotators marked the same characters "
            "(exact) or overlapping ones (overlap, paired one to one); label agreement (Cohen's κ) is measured on "
            "the exactly matched spans, links (a mention's entity, a quote's speaker) likewise.\n\n"
            + _table(["layer", "A", "B", "span F1 exact", "span F1 overlap", "labels", "links"], rows))


def label_sections(labels: Labels, summary: Summary, counts: dict) -> str:
    """The card's label inventories, a section per layer (the layer table's ``title``, in
    ``SHOWN_LAYERS`` order) with a table per label column and inventory: each label's name and
    definition (``labels.json``), its allowed roles where it has any (event types), and its count."""
    sections = []
    for layer in (LAYER[name] for name in SHOWN_LAYERS):
        children = [f"{counts[f'{layer.item}_{name}']} {name}" for name in layer.lists
                    if f"{layer.item}_{name}" in counts]
        parts = [f"### {layer.title} (`{layer.name}`: {'; '.join([str(counts.get(layer.name, 0)), *children])})"]
        for column, keys in layer.labels.items():
            counter = summary.counts.get(f"{layer.name}.{column}", {})
            for key in keys.split("|"):
                inventory = labels[key]
                roles = any(label.roles for label in inventory.labels)
                rows = [[f"`{label.name}`", label.title, label.description]
                        + (["; ".join(f"{r} ({', '.join(a)})" for r, a in label.roles.items())] if roles else [])
                        + [counter.get(label.name, 0)] for label in inventory.labels]
                header = ["label", "name", "definition"] + (["roles (allowed filler types)"] if roles else []) + ["count"]
                parts.append(f"**{inventory.title}** (`{column}`): {_first_sentence(inventory.description)}\n\n"
                             + _table(header, rows))
        sections.append("\n\n".join(parts))
    return "\n\n".join(sections)


def _first_sentence(text: str) -> str:
    """An inventory's description up to its first full stop: what it is (the rest is for annotators)."""
    head, stop, _ = text.partition(". ")
    return head + "." if stop else text




def render_card(labels: Labels, summary: Summary, sizes: dict[str, tuple[int, int]], feats: dict[str, Features],
                counts: dict, layers: dict, version: str, agreement: dict | None = None) -> str:
    """The card's text, from the corpus statistics (``stats.combine``) and the configs' sizes
    (rows, Arrow bytes); nothing in it needs the corpus tables."""
    stats = summary.stats
    linked = stats["totals"]["entities_with_wikidata"]
    cover = summary.coverage
    docs = summary.documents
    shown_docs = docs.head(CARD_ROWS).to_dicts()
    flags = summary.flags.head(CARD_ROWS).to_dicts()
    n_docs, n_flags = docs.height, summary.flags.height

    layer_rows = _table(["layer", "provenance", "description"],
                        [[name, info["provenance"], info["description"]] for name, info in layers.get("layers", {}).items()])
    doc_rows = _table(["document", "title", "date", "outlet", *SHOWN_LAYERS], [
        [d["id"], d["title"] or "–", d["date"] or "–", d["outlet"] or "–"] + [d[layer] for layer in SHOWN_LAYERS]
        for d in shown_docs])
    if n_docs > CARD_ROWS:
        doc_rows += f"\n\nThe first {CARD_ROWS} of {n_docs} documents; the `documents` config lists them all."
    flag_text = "\n".join(f"- `{f['document']}` **{f['code']}**: {f['note']}" for f in flags) or "- none recorded"
    if n_flags > CARD_ROWS:
        flag_text += f"\n- … and {n_flags - CARD_ROWS} more, in the `flags` of the `documents` config"
    unannotated = docs.filter(pl.col("mentions") == 0)["id"].to_list()
    one_row = {  # what one row of each config is: a layer's own config says it in the layer table
        "documents": "an article with its nested " + ", ".join(SHOWN_LAYERS[:-1]) + " and " + SHOWN_LAYERS[-1],
        "entities": "a registry entity with aliases and mention counts",
        "ner": "a sentence: tokens and BIO ner_tags (conll2003 style)",
        **{layer.name: layer.row for layer in LAYER_TABLE if layer.config}}
    config_rows = _table(["config", "rows", "one row is"], [
        [f"{config} (default)" if config == DEFAULT_CONFIG else config, sizes[config][0], one_row[config]]
        for config in CONFIGS])

    body = f"""
# peacetalks {version}

An annotated corpus of English news articles on European diplomacy around the
Russia–Ukraine peace talks (2025–2026). Each article carries hand-curated layers:
entity mentions linked to corpus-level entities and Wikidata, time expressions with
normalised values, events with typed arguments, and attributed quotes (speaker, cue,
content), for named-entity recognition, entity linking, event extraction, quote
attribution and cross-document coreference.

## Loading

```python
from datasets import load_dataset

docs = load_dataset("path/to/this/folder", "documents", split="train")
ner = load_dataset("path/to/this/folder", "ner", split="train")
ner.features["ner_tags"].feature.names   # the BIO label names
```

The Parquet files under `data/` read as they are with pandas, polars or DuckDB.
Label columns hold `ClassLabel` ids (`-1` where a field has no label, e.g. the
`level` of a time expression); the names are in the YAML header and the tables below.

## Configs

{config_rows}

There is a single `train` split with every document. Splits are made on document
boundaries; with {counts['documents']} documents a held-out split would not be
meaningful, so none is made. Future splits will keep every existing document in
the split it is in.

## Documents

{doc_rows}

{"Documents without annotations (released with empty layers): " + ", ".join(f"`{d}`" for d in unannotated[:CARD_ROWS]) + (f" and {len(unannotated) - CARD_ROWS} more" if len(unannotated) > CARD_ROWS else "") + "." if unannotated else "Every document has annotations."}

## Annotation layers and provenance

{layer_rows}

Offsets are Unicode code point offsets into `text` (Python `str` indices), half-open.
`text` has one paragraph per line. Where an article has a headline, it is the first line
of `text`, annotated like the body in every layer (and a sentence of its own in `ner`),
and is repeated in `title` as metadata: the body starts at `len(title) + 1`. A byline
("Name for Outlet") and a date line are metadata (`author`, `outlet`, `date`), not text,
and are never annotated.
Guidelines: `annotations/GUIDELINES.md` in the source repository.

## Inter-annotator agreement

{agreement_section(agreement)}

## Label inventories

{label_sections(labels, summary, counts)}

## Entity linking

Every entity mention links to a registry entity (the `entity` column: within- and
cross-document coreference). Registry entities link to Wikidata only through a check:
`peacetalks links --online` confirms that the item exists, that its English label or an
alias matches the entity's name, and that it is an instance of a class the entity type
allows. Of the {cover['total']['named']} named entities (those with a name mention),
{cover['total']['linked']} carry a Wikidata id: {cover['total']['verified']} verified online,
{cover['total']['unverified']} **unverified** (added by hand before such a check; the
`entities` config's `wikidata_verified` is false for them, so filter on it for
checked links). {cover['name_mentions']['linked']} of {cover['name_mentions']['all']} name mentions belong to a linked entity.

{_table(["type", "named entities", "with a Wikidata id", "verified", "unverified", "without"],
        [[f"`{k}`", r["named"], r["linked"], r["verified"], r["unverified"], r["unlinked"]] for k, r in cover["by_type"].items()])}

{"Unverified links: " + ", ".join(f"`{u['entity']}` ({u['wikidata']})" for u in cover["unverified"][:CARD_ROWS]) + (f" and {len(cover['unverified']) - CARD_ROWS} more" if len(cover["unverified"]) > CARD_ROWS else "") + "." if cover["unverified"] else "Every Wikidata link is verified."}

## Statistics

- documents: {counts['documents']}; sentences: {counts['sentences']}; tokens: {counts['tokens']}
- mentions: {counts['mentions']}; entities: {counts['entities']} ({linked} linked to Wikidata, {counts['entities'] - linked} without a Wikidata id)
- events: {counts['events']}; event arguments: {counts['event_arguments']}; quotes: {counts['quotes']}; quality flags: {counts['flags']}

The same figures as `peacetalks stats`:

{stats_markdown(stats, heading="###", max_documents=CARD_ROWS)}

## Known limitations

- The corpus is small and its articles come from a handful of outlets; several
  articles are rewrites or syntheses of agency reports, some with inserted or false
  material. Quality flags record what was found; the text itself is never changed:

{flag_text}

- Wikidata ids are given only where a check confirmed them or, before this rule, by hand
  (`wikidata_verified: false`); entities without one have `wikidata: null`.
- The `ner` config keeps named (`NAM`) mentions and time expressions only; where
  mentions nest, the outermost wins. Tokens come from spaCy's rule-based tokenizer.
- The article texts are the publishers' own (see Licensing).

## Licensing

{LICENSING}

The same terms are in `{LICENSE_FILE}`.

## Citation

```bibtex
@misc{{peacetalks,
  title  = {{peacetalks: an annotated corpus of European diplomacy around the Russia--Ukraine peace talks}},
  author = {{peacetalks developers}},
  year   = {{2026}},
  note   = {{Version {version}}}
}}
```
"""
    # (the YAML header as huggingface_hub writes it: the card is what ``DatasetCard`` reads and writes back
    # unchanged, tested; parsing it again here would only cost a pure-Python YAML load and dump, 0.27 s)
    return f"---\n{_yaml(sizes, feats).to_yaml()}\n---\n{body}"
