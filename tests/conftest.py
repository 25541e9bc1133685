import os
import shutil
from pathlib import Path

import pytest

from peacetalks.reading.project import Project

ROOT = Path(__file__).resolve().parents[1]
DOC = "003_b7bcec48b37e17cc"

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def copy_checkout(root: Path) -> Project:
    """A private copy of the corpus checkout (seeds, corpus, annotations, schema) under ``root``."""
    for name in ("seeds", "corpus", "annotations", "schema"):
        shutil.copytree(ROOT / name, root / name)
    return Project(root)


@pytest.fixture
def project(tmp_path) -> Project:
    """A private copy of the corpus checkout that a test may break."""
    return copy_checkout(tmp_path)


def locate(path: Path, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based line and column of a string in a file, found by plain text search."""
    text = path.read_text("utf-8")
    pos = -1
    for _ in range(occurrence + 1):
        pos = text.index(needle, pos + 1)
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
