"""The annotation layers as Arrow types: what one document's annotation file holds, and the registries.

The model, without I/O: reading (``annotations``), the cache (``cache``), validation and the
release all take the layers' shapes from here.
"""

from __future__ import annotations

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
DOCUMENT = pa.struct([("document", pa.string()), ("flags", pa.list_(FLAG)), ("mentions", pa.list_(MENTION)),
                      ("events", pa.list_(EVENT)), ("quotes", pa.list_(QUOTE))])
CHECK = pa.struct([("wikidata", pa.string()), ("date", pa.string()), ("label", pa.string())])
ENTITY = pa.schema([("id", pa.string()), ("name", pa.string()), ("type", pa.string()),
                    ("wikidata", pa.string()), ("aliases", pa.list_(pa.string())), ("wikidata_checked", CHECK)])
XDOC_EVENT = pa.schema([("id", pa.string()), ("name", pa.string()), ("description", pa.string()), ("date", pa.string())])

LAYERS = ("flags", "mentions", "events", "quotes")
