"""Fuzzing every file kind: arbitrary bytes, arbitrary JSON and mutations of the real (JSON) files never make a
command raise, and never make it write outside its output folder (or, for fmt, outside the files it formats).

The default run tries a few examples per kind; `pytest -m fuzz` (run by .ci/run) tries many more
(PEACETALKS_FUZZ_EXAMPLES, default 60 per kind and strategy).
"""

import hashlib
import importlib.util
import json
import os
import shutil

import pytest
from conftest import DOC, copy_checkout
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacetalks.cli import main
from peacetalks.reading.ingest import ingest
from peacetalks.release.build import build
from peacetalks.tools.export import export

SEED = "000_4d90cd6c48df9336"
KINDS = {  # file kind -> its path in a project
    "document annotations": f"annotations/documents/{DOC}.json",
    "entities": "annotations/entities.json",
    "xdoc events": "annotations/xdoc-events.json",
    "allow-list": "annotations/allow.json",
    "layers": "annotations/layers.json",
    "corpus metadata": f"corpus/{DOC}.json",
    "seed metadata": f"seeds/{SEED}.meta.json",
    "release manifest": "release/manifest.json",
    "corpus text": f"corpus/{DOC}.txt",
    "seed": f"seeds/{DOC}.txt",
    "seed checksums": "seeds/SHA256SUMS",
    "agreement record": "annotations/agreement.json",
}
TOOLS = {  # tool format -> the file of DOC its export holds (tools/<format>/...)
    "brat": f"{DOC}.ann", "label-studio": "tasks.json", "inception": f"{DOC}.xmi"}
JSON_KINDS = [k for k, path in KINDS.items() if path.endswith(".json")]
FORMATTED = ("annotations/documents/", "annotations/entities.json", "annotations/xdoc-events.json",
             "annotations/allow.json")
EXAMPLES = int(os.environ.get("PEACETALKS_FUZZ_EXAMPLES", "60"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["id", "start", "end", "text", "type", "level", "entity", "value", "document", "mentions",
                         "events", "quotes", "flags", "trigger", "arguments", "role", "mention", "speaker", "content",
                         "cue", "kind", "realis", "modality", "xdoc", "entities", "name", "wikidata", "aliases",
                         "allow", "code", "path", "contains", "reason", "version", "files", "configs", "sha256",
                         "bytes", "rows", "title", "date", "url", "outlet", "layers"]) | st.text(max_size=6),
        inner, max_size=6),
    max_leaves=30)


def _mutate(data, path, value):
    """``data`` with the value at ``path`` (a list of keys and indexes, cut where it no longer fits) replaced."""
    if not path or not isinstance(data, (dict, list)) or not data:
        return value
    key = path[0]
    if isinstance(data, dict):
        key = sorted(data)[key % len(data)]
        return {**data, key: _mutate(data[key], path[1:], value)}
    key %= len(data)
    return [*data[:key], _mutate(data[key], path[1:], value), *data[key + 1:]]


def tree(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A checkout with a seed metadata file and a built release, copied for every example."""
    root = tmp_path_factory.mktemp("fuzz-base")
    project = copy_checkout(root / "project")
    (project.seeds / f"{SEED}.meta.json").write_text(json.dumps({"url": "https://example.org/a"}), "utf-8")
    assert ingest(project)[1] == []
    (project.agreement).write_text(json.dumps({"a": "x", "b": "y", "documents": [DOC], "layers": {"mentions": {
        "a": 3, "b": 2, "span_f1_exact": 0.8, "span_f1_overlap": 0.8, "labels": {"type": {"observed": 1.0, "kappa": 1.0}},
        "links": {"entity": 1.0}}}}), "utf-8")
    build(project, project.root / "release")
    for fmt in TOOLS:
        export(fmt, project.root / "release", project.root / "tools" / fmt)
    return project.root


def run_import(base, tmp, fmt: str, content: bytes):
    """Put ``content`` in place of the tool file of ``fmt``; import it (--force): never a traceback, and
    nothing written but DOC's annotation file and the entity registry."""
    root = tmp / "project"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(base, root)
    (root / "tools" / fmt / TOOLS[fmt]).write_bytes(content)
    before = tree(tmp)
    code = main(["--root", str(root), "import", fmt, str(root / "tools" / fmt), "--document", DOC, "--force"])
    assert code in (0, 1), code
    after = tree(tmp)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert changed <= {f"project/annotations/documents/{DOC}.json", "project/annotations/entities.json"}, changed


def run_everything(base, tmp, kind, content: bytes):
    """Put ``content`` in place of the file of ``kind``, run every command, check what was written."""
    root = tmp / "project"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(base, root)
    (root / KINDS[kind]).write_bytes(content)
    out = tmp / "out"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    before = tree(tmp)
    argv = ["--root", str(root)]
    codes = [main([*argv, "validate", "--no-cache"]), main([*argv, "fmt", "--check"]), main([*argv, "fmt"]),
             main([*argv, "build", "--no-cache", "--out", str(out / "rel")]),
             main([*argv, "view", "--no-cache", "--out", str(out / "site")]),
             main([*argv, "stats"]), main(["verify", str(root / "release")])]
    assert all(c in (0, 1, 2) for c in codes), codes
    after = tree(tmp)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    allowed = ("out/rel/", "out/site/") + tuple(f"project/{f}" for f in FORMATTED)
    assert all(p.startswith(allowed) for p in changed), sorted(p for p in changed if not p.startswith(allowed))
    if kind == "release manifest" and codes[-1] == 0:  # a manifest that verifies states the release's facts
        real = json.loads((base / KINDS[kind]).read_text("utf-8"))
        now = json.loads(content)
        assert {k: now.get(k) for k in ("name", "version", "configs", "counts", "files")} == \
            {k: real.get(k) for k in ("name", "version", "configs", "counts", "files")}


def fuzz_settings(n):
    return settings(max_examples=n, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _cases(examples):
    @pytest.mark.parametrize("kind", list(KINDS))
    @fuzz_settings(examples)
    @given(content=st.binary(max_size=400))
    def bytes_case(base, tmp_path_factory, kind, content):
        run_everything(base, tmp_path_factory.mktemp("b"), kind, content)

    @pytest.mark.parametrize("kind", list(KINDS))
    @fuzz_settings(examples)
    @given(value=json_values)
    def json_case(base, tmp_path_factory, kind, value):
        run_everything(base, tmp_path_factory.mktemp("j"), kind, json.dumps(value).encode())

    @pytest.mark.parametrize("kind", JSON_KINDS)
    @fuzz_settings(examples)
    @given(path=st.lists(st.integers(0, 10**6), max_size=5), value=json_values)
    def mutation_case(base, tmp_path_factory, kind, path, value):
        real = json.loads((base / KINDS[kind]).read_text("utf-8"))
        run_everything(base, tmp_path_factory.mktemp("m"), kind,
                       json.dumps(_mutate(real, path, value), ensure_ascii=False).encode())

    @pytest.mark.parametrize("fmt", list(TOOLS))
    @fuzz_settings(examples)
    @given(content=st.binary(max_size=400))
    def tool_bytes_case(base, tmp_path_factory, fmt, content):
        run_import(base, tmp_path_factory.mktemp("tb"), fmt, content)

    @pytest.mark.parametrize("fmt", list(TOOLS))
    @fuzz_settings(examples)
    @given(at=st.integers(0, 10**6), line=st.text(max_size=60) | st.sampled_from(
        ["T1\tPER 0 6\tMacron", "R1\tSpeaker Arg1:T1 Arg2:T2", "E1\tContact-Meet:T1 Participant:T2",
         "A1\tLevel T1 NAM", "#1\tAnnotatorNotes T1\t{}", '  <type:NamedEntity xmi:id="9" begin="0" end="99"/>',
         '{"id": "m1", "type": "labels", "value": {"start": -1, "end": 3, "labels": ["PER"]}},']), drop=st.booleans())
    def tool_line_case(base, tmp_path_factory, fmt, at, line, drop):
        lines = (base / "tools" / fmt / TOOLS[fmt]).read_text("utf-8").split("\n")
        k = at % len(lines)
        lines[k:k + drop] = [line]
        run_import(base, tmp_path_factory.mktemp("tl"), fmt, "\n".join(lines).encode())

    @fuzz_settings(examples)
    @given(path=st.lists(st.integers(0, 10**6), max_size=7), value=json_values)
    def tool_json_case(base, tmp_path_factory, path, value):
        real = json.loads((base / "tools" / "label-studio" / "tasks.json").read_text("utf-8"))
        run_import(base, tmp_path_factory.mktemp("tj"), "label-studio",
                   json.dumps(_mutate(real, path, value), ensure_ascii=False).encode())

    return bytes_case, json_case, mutation_case, tool_bytes_case, tool_line_case, tool_json_case


test_bytes, test_json, test_mutations, test_tool_bytes, test_tool_lines, test_tool_json = _cases(2)
(test_bytes_many, test_json_many, test_mutations_many, test_tool_bytes_many, test_tool_lines_many,
 test_tool_json_many) = (pytest.mark.fuzz(t) for t in _cases(EXAMPLES))


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is installed on Linux only")
def test_the_coverage_guided_fuzzer_leaves_no_work_folder(tmp_path):
    """scripts/fuzz.py (run by .ci/run): libFuzzer ends a kind's process without unwinding it, so the
    folder that process works in is made and removed by its parent; only the crash folder stays."""
    import subprocess
    import sys

    from conftest import ROOT
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "fuzz.py"), "--kind", "allow", "--seconds", "1"],
                          capture_output=True, text=True, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0 and "no crash" in done.stdout, done.stdout + done.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["peacetalks-fuzz-crashes"]
