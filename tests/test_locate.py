"""diagnostics/locate.py: the one place that turns offsets and JSON pointers into line:column."""

import pytest

from peacetalks.diagnostics.locate import Locator, byte_position, text_position


@pytest.mark.parametrize("text, offset, expected", [
    ("abc", 0, (1, 1)), ("abc", 2, (1, 3)), ("ab\ncd", 3, (2, 1)), ("ab\ncd", 4, (2, 2)),
    ("é\n“x”", 3, (2, 2)), ("\n\n", 2, (3, 1)),
])
def test_text_position_counts_code_points(text, offset, expected):
    assert text_position(text, offset) == expected


@pytest.mark.parametrize("data, offset, expected", [
    (b"abc", 1, (1, 2)),
    ("é\nab".encode(), 4, (2, 2)),  # é is two bytes and one column
    ("“x”".encode("utf-8") + b"\xff", 7, (1, 4)),  # after three characters of seven bytes
    ("“x”".encode("utf-8") + b"\xff", 8, (1, 5)),  # an undecodable byte counts one column
    (b"a\xffb\nc", 2, (1, 3)),  # an undecodable byte counts one column
])
def test_byte_position_counts_characters(data, offset, expected):
    assert byte_position(data, offset) == expected


def test_the_locator_finds_a_pointer_or_its_nearest_parent(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{\n  "mentions": [\n    {"id": "m1", "text": "x"}\n  ]\n}\n', "utf-8")
    locator = Locator()
    assert locator.locate(path, "/mentions/0/text") == (3, 26)
    assert locator.locate(path, "/mentions/0/text", key=True) == (3, 18)
    assert locator.locate(path, "/mentions/7/end") == (2, 15)  # no such item: its list
    broken = tmp_path / "b.json"
    broken.write_text("{", "utf-8")
    assert locator.locate(broken, "/x") == (1, 1)
