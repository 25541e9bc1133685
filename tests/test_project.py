"""reading/project.py: where a corpus lives, and which document a file belongs to."""

import pytest

from peacetalks.reading.project import Project


@pytest.mark.parametrize("path,document", [
    ("annotations/documents/005_new.json", "005_new"),
    ("corpus/005_new.txt", "005_new"),
    ("corpus/005_new.json", "005_new"),
    ("corpus/a.b.txt", "a.b"),  # (the last dot ends the id)
    ("annotations/documents/005_new.txt", None),  # (not an annotation file)
    ("annotations/entities.json", None),
    ("seeds/005_new.txt", None),
    ("corpus/sub/005_new.txt", None),
    ("005_new.json", None),
    ("", None),
])
def test_document_of_names_the_document_of_its_three_files_only(tmp_path, path, document):
    project = Project(tmp_path)
    assert project.document_of(path) == document
    if document is not None:
        assert path in project.document_files(document)
        assert {project.document_of(f) for f in project.document_files(document)} == {document}


def test_document_files_are_named_as_reports_name_them(tmp_path):
    assert Project(tmp_path).document_files("x") == ["annotations/documents/x.json", "corpus/x.txt", "corpus/x.json"]
