"""Property tests: the validator never raises, whatever a contributor's file holds."""

import json

from conftest import DOC, copy_checkout
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacetalks.checks.validate import validate

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "start", "end", "text", "type", "level", "entity", "value", "document",
                         "mentions", "events", "quotes", "flags", "trigger", "arguments", "role", "mention",
                         "speaker", "content", "cue", "kind", "realis", "modality", "xdoc"]) | st.text(max_size=5),
        inner, max_size=6),
    max_leaves=20)


def _project(tmp_path_factory):
    root = tmp_path_factory.mktemp("prop")
    return copy_checkout(root)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(tmp_path_factory, content):
    project = _project(tmp_path_factory)
    (project.documents / f"{DOC}.json").write_bytes(content)
    result = validate(project)
    assert all(p.path and p.line >= 1 and p.column >= 1 for p in result.problems)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_arbitrary_json_never_raises(tmp_path_factory, value):
    project = _project(tmp_path_factory)
    (project.documents / f"{DOC}.json").write_text(json.dumps(value), "utf-8")
    validate(project)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(-5, 6000), end=st.integers(-5, 6000), text=st.text(min_size=1, max_size=8),
       layer=st.sampled_from(["mentions", "events", "quotes"]))
def test_arbitrary_offsets_never_raise(tmp_path_factory, start, end, text, layer):
    project = _project(tmp_path_factory)
    path = project.documents / f"{DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    item = data[layer][0]
    span = item if layer == "mentions" else item["trigger" if layer == "events" else "content"]
    span.update(start=start, end=end, text=text)
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    validate(project)
