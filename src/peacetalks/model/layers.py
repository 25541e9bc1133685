"""The layer table: every annotation layer defined once (Arrow type, file keys, ids, spans, labels, diff
identity), and the registries' Arrow types.

The model, without I/O: reading (``annotations``), the cache (``cache``), validation and the
release all take the layers' shapes from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

SPAN = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string())])
MENTION = pa.struct([("id", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()),
                     ("type", pa.string()), ("level", pa.string()), ("entity", pa.string()), ("value", pa.string())])
ARGUMENT = pa.struct([("role", pa.string()), ("mention", pa.string())])
EVENT = pa.struct([("id", pa.string()), ("trigger", SPAN), ("type", pa.string()), ("realis", pa.string()),
                   ("modality", pa.string()), ("arguments", pa.list_(ARGUMENT)), ("xdoc", pa.string())])
QUOTE = pa.struct([("id", pa.string()), ("kind", pa.string()), ("content", SPAN), ("cue", SPAN),
                   ("speaker", pa.string()), ("addressee", pa.string())])
FLAG = pa.struct([("code", pa.string()), ("note", pa.string()), ("span", SPAN)])
CHECK = pa.struct([("wikidata", pa.string()), ("date", pa.string()), ("label", pa.string())])
ENTITY = pa.schema([("id", pa.string()), ("name", pa.string()), ("type", pa.string()),
                    ("wikidata", pa.string()), ("aliases", pa.list_(pa.string())), ("wikidata_checked", CHECK)])
XDOC_EVENT = pa.schema([("id", pa.string()), ("name", pa.string()), ("description", pa.string()), ("date", pa.string())])


@dataclass(frozen=True)
class SpanPart:
    """One span of a layer's item: ``key`` in the item (None: the item is itself the span), and the
    prefix of its columns in the layer's flat table (``trigger_`` → trigger_start, trigger_end, ...)."""

    key: str | None
    prefix: str
    release_prefix: str | None = None  # its columns' prefix in the release's configs, if not ``prefix``

    @property
    def pointer(self) -> str:
        """The JSON pointer suffix of the span inside its item."""
        return f"/{self.key}" if self.key else ""

    def columns(self) -> tuple[str, str, str]:
        return f"{self.prefix}start", f"{self.prefix}end", f"{self.prefix}text"


@dataclass(frozen=True)
class Lookup:
    """A column a layer's release config adds to each entry, looked up in another table: ``value`` of
    the row of ``table`` (a registry, or a layer: then within the entry's document) whose ``key`` is
    the entry's ``via`` (null where there is none)."""

    column: str
    via: str
    table: str
    value: str
    key: str = "id"


@dataclass(frozen=True)
class Layer:
    """One annotation layer of a document file, as every stage sees it.

    ``name`` is its list in the annotation file and its table; ``item`` the kind of one entry
    (the key order ``keys`` that ``fmt`` writes); ``struct`` one entry as Arrow; ``id_prefix``
    the prefix of the ids ``fmt`` gives entries without one (None: the layer has no ids);
    ``spans`` its span parts, the first of which sorts the entries and is the span ``fmt``
    checks for a taken place (``taken``); ``labels`` its columns that take a label inventory;
    ``identity`` / ``compared`` / ``label`` what ``diff`` matches entries on, compares, and
    counts changes by (columns of the comparable frames of ``release/versions.py``). ``config``: the
    release has a config of the layer's entries, one row each (every layer is nested in the
    ``documents`` config), with the columns of its ``lookups`` added; ``row``: what one row of that
    config is, and ``title`` what the layer holds, as the dataset card says them.
    """

    name: str
    item: str
    struct: pa.StructType
    keys: tuple[str, ...]
    id_prefix: str | None
    spans: tuple[SpanPart, ...]
    labels: dict[str, str]
    identity: tuple[str, ...]
    compared: tuple[str, ...]
    label: str
    taken: bool = True
    config: bool = True
    lookups: tuple[Lookup, ...] = ()
    row: str = ""
    title: str = ""

    @property
    def lists(self) -> tuple[str, ...]:
        """The lists inside an entry (an event's ``arguments``): each a table of its own when flattened."""
        return tuple(f.name for f in self.struct if pa.types.is_list(f.type))


#: The layers, in the order a document's annotation file lists them.
LAYER_TABLE: tuple[Layer, ...] = (
    Layer("flags", "flag", FLAG, ("code", "note", "span"), None, (SpanPart("span", "span_", ""),),
          {"code": "FlagCode"}, ("document", "code", "start", "end"), ("note",), "code", taken=False, config=False,
          title="Quality flags"),
    Layer("mentions", "mention", MENTION, ("id", "start", "end", "text", "type", "level", "entity", "value"), "m",
          (SpanPart(None, ""),), {"type": "EntityType|TimexType", "level": "MentionLevel"},
          ("document", "start", "end"), ("text", "type", "level", "entity", "value"), "type",
          lookups=(Lookup("wikidata", "entity", "entities", "wikidata"),),
          row="an entity mention or time expression, with entity id and Wikidata id",
          title="Entity mentions and time expressions"),
    Layer("events", "event", EVENT, ("id", "trigger", "type", "realis", "modality", "arguments", "xdoc"), "e",
          (SpanPart("trigger", "trigger_"),), {"type": "EventType", "realis": "Realis", "modality": "Modality"},
          ("document", "trigger_start", "trigger_end"),
          ("trigger_text", "type", "realis", "modality", "xdoc", "arguments"), "type",
          row="an event mention with trigger, type, realis, arguments and cross-document id",
          title="Event mentions"),
    Layer("quotes", "quote", QUOTE, ("id", "kind", "content", "cue", "speaker", "addressee"), "q",
          (SpanPart("content", "content_"), SpanPart("cue", "cue_")), {"kind": "QuoteKind"},
          ("document", "content_start", "content_end", "speaker_span"), ("kind", "cue", "content_text"), "kind",
          lookups=(Lookup("speaker_entity", "speaker", "mentions", "entity"),),
          row="an attributed statement with content, cue, speaker mention and speaker entity",
          title="Quotes"),
)
LAYER = {layer.name: layer for layer in LAYER_TABLE}
LAYERS = tuple(LAYER)  # ("flags", "mentions", "events", "quotes")
#: the layers in the order the card and the statistics show them: those with a config of their own, then the others
SHOWN_LAYERS = (*(layer.name for layer in LAYER_TABLE if layer.config),
                *(layer.name for layer in LAYER_TABLE if not layer.config))
DOCUMENT = pa.struct([("document", pa.string())] + [(layer.name, pa.list_(layer.struct)) for layer in LAYER_TABLE])
