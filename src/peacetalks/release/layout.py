"""The layout of a release folder: its configs, its split and where each config's Parquet file lives.

Shared by the build that writes a release, the card that describes it and the verification
and diff that read it back.
"""

from __future__ import annotations

CONFIGS = ("documents", "mentions", "entities", "events", "quotes", "ner")
DEFAULT_CONFIG = "documents"
SPLIT = "train"


def parquet_path(config: str) -> str:
    return f"data/{config}/{SPLIT}-00000-of-00001.parquet"
