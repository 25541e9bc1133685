"""peacetalks: an annotated news corpus on the Russia-Ukraine peace talks.

The data flows seeds -> corpus -> annotations -> checks -> release -> tools, and so do
the subpackages: ``diagnostics`` (rule catalogue, ``Problem``), ``model`` (labels,
layers, schemas, tables), ``reading`` (project, files, ingest, corpus, annotations,
cache), ``checks`` (validate by level, lints), ``release`` (build, card, ledger,
versions) and ``tools`` (fmt, view, links); ``cli`` sits on top.
"""

#: The one version number of the package and of the corpus it releases (semver).
__version__ = "0.3.0"
