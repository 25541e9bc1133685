"""What the process pool's fork server imports once before it forks the workers (``checks.runner``):
the build's shard function with all it uses, spaCy's tokenizer (built once: 0.5 s that every
worker would otherwise pay again) and pandera's polars backends (which pandera imports on its
first validation: 0.4 s, hypothesis included). Nothing here starts a thread: a process that
forks must not have any (polars' thread pool would not survive the fork)."""

from __future__ import annotations

from pandera.backends.polars.register import register_polars_backends

from .ner import warm
from .shards import build_shard

__all__ = ["build_shard"]

warm()
register_polars_backends()
