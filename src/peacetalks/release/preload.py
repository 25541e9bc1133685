"""What the process pool's fork server imports once before it forks the workers (``checks.runner``):
the build's shard function with all it uses, and spaCy's tokenizer (built once: 0.5 s that every
worker would otherwise pay again). Not pandera: it runs only on a table that fails its checks
(``checks/level5_tables.py``). Nothing here starts a thread: a process that forks must not have
any (polars' thread pool would not survive the fork)."""

from __future__ import annotations

from .ner import warm
from .shards import build_shard

__all__ = ["build_shard"]

warm()
