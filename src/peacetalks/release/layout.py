"""The layout of a release folder: its configs, its split and where each config's Parquet file lives.

Shared by the build that writes a release, the card that describes it and the verification
and diff that read it back.
"""

from __future__ import annotations

from ..model.layers import LAYER_TABLE

#: the configs, in the order of the card and the manifest: the documents (every layer nested), one config
#: per layer that has one (``Layer.config``, in the layer table's order) with the registry's ``entities``
#: (their mention counts) right after the mentions, and the conll2003-style ``ner`` view
CONFIGS = ("documents",
           *(c for layer in LAYER_TABLE if layer.config
             for c in ((layer.name, "entities") if layer.name == "mentions" else (layer.name,))),
           "ner")
DEFAULT_CONFIG = "documents"
SPLIT = "train"


def parquet_path(config: str) -> str:
    return f"data/{config}/{SPLIT}-00000-of-00001.parquet"
