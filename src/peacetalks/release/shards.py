"""The build's per-document work: a shard's checks (``checks.shards.check_shard``) and its ``ner`` rows.

One function of a shard, like ``check_shard`` itself, which ``checks.runner`` runs in this
process or in the workers; the build passes it to ``validate``. The rows are made before
the corpus-level checks have passed: a corpus with errors writes nothing, so they are
simply dropped then.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..checks.shards import Shard, ShardResult, check_shard, context
from ..model.labels import Labels
from ..reading.annotations import Tables
from .ner import flat_spans, ner_rows, tokenise


def build_shard(shard: Shard) -> ShardResult:
    """``check_shard``, and the shard's ``ner`` rows in ``extra["ner"]``."""
    result = check_shard(shard)
    result.extra["ner"] = shard_ner(result.tables, context(shard.root, shard.embedded).labels)
    return result


def document_numbers(table: pa.Table, ids: pa.ChunkedArray | pa.Array, column: str = "document") -> np.ndarray:
    """Each row's document as its row number in the documents table (or another column's value as its index)."""
    return pc.index_in(table.column(column), value_set=ids).to_numpy(zero_copy_only=False).astype(np.int64)


def shard_ner(tables: Tables, labels: Labels) -> pa.Table:
    """conll2003-style rows of the documents in ``tables``: one sentence, its tokens and the BIO tags of
    its named (NAM) mentions and time expressions, outermost first (``ner.flat_spans``)."""
    documents, mentions = tables.documents, tables.mentions
    level = mentions.column("level")
    names = mentions.filter(pc.or_kleene(pc.is_null(level), pc.equal(level, "NAM")))
    spans = flat_spans(document_numbers(names, documents.column("id")), names.column("start").to_numpy(),
                       names.column("end").to_numpy(), document_numbers(names, pa.array(labels.mention_types), "type"))
    return ner_rows(documents.column("id").to_pylist(), tokenise(documents.column("text").to_pylist()), spans)
