"""peacetalks: an annotated news corpus on the Russia-Ukraine peace talks.

The data flows seeds -> corpus -> annotations -> validate -> build -> release,
one module per stage: ``ingest``, ``corpus``, ``annotations``, ``validate``,
``build``.
"""

#: The one version number of the package and of the corpus it releases (semver).
__version__ = "0.3.0"
