"""The build's per-document work: a shard's checks (``checks.shards.check_shard``), its release rows
and its statistics.

One function of a shard, like ``check_shard`` itself, which ``checks.runner`` runs in this
process or in the workers; the build passes it to ``validate``, and writes the rows of each
shard as it comes (one Parquet row group per shard and config). The rows are made before the
corpus-level checks have passed: a corpus with errors publishes nothing, so they are simply
dropped then.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from ..checks.shards import Shard, ShardResult, check_shard, context
from ..model.labels import Labels
from ..reading.annotations import Tables, metadata_only
from ..reading.spool import spool
from .ner import flat_spans, ner_rows, tokenise
from .rows import document_numbers, shard_rows
from .stats import partial


def build_shard(shard: Shard, spool_to: str | None = None) -> ShardResult:
    """``check_shard``; then the shard's rows of every config but ``entities`` in ``extra["rows"]``, and
    its partial statistics in ``extra["partial"]``. With ``spool_to`` (a folder), the rows are Arrow IPC
    files there (``reading.spool``) and ``extra["rows"]`` holds their paths."""
    result = check_shard(replace(shard, keep_tables=True))
    labels = context(shard.root, shard.embedded).labels
    rows = shard_rows(result.tables, labels, shard_ner(result.tables, labels))
    result.extra["rows"] = rows if spool_to is None else spool(rows, spool_to)
    result.extra["partial"] = partial(result.tables)
    if not shard.keep_tables:
        result.tables = metadata_only(result.tables)
    return result


def shard_ner(tables: Tables, labels: Labels) -> pa.Table:
    """conll2003-style rows of the documents in ``tables``: one sentence, its tokens and the BIO tags of
    its named (NAM) mentions and time expressions, outermost first (``ner.flat_spans``)."""
    documents, mentions = tables.documents, tables.mentions
    level = mentions.column("level")
    names = mentions.filter(pc.or_kleene(pc.is_null(level), pc.equal(level, "NAM")))
    spans = flat_spans(document_numbers(names, documents.column("id")), names.column("start").to_numpy(),
                       names.column("end").to_numpy(), document_numbers(names, pa.array(labels.mention_types), "type"))
    return ner_rows(documents.column("id").to_pylist(), tokenise(documents.column("text").to_pylist()), spans)
