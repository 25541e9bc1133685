"""The package's import graph has no cycles, counting every import: top-level, inside functions, and
under ``if TYPE_CHECKING``. A cycle hidden in a function is still a cycle: the two modules cannot be
understood, tested or moved apart."""

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "src" / "peacetalks"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere in its source (relative or absolute)."""
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    top = package.name
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        base = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = base.split(".")
                    origin = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                targets = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target.split(".")[0] == top and target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle():
    found = cycles(import_graph())
    assert found == [], "import cycles (function-level and TYPE_CHECKING imports count): " + "; ".join(
        " <-> ".join(c) for c in found)


@pytest.mark.parametrize("files, expected", [
    ({"a.py": "from . import b\n", "b.py": "def f():\n    from .a import x\n"}, [["pkg.a", "pkg.b"]]),
    ({"a.py": "from .b import y\n", "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n"},
     [["pkg.a", "pkg.b"]]),
    ({"a.py": "import pkg.b\n", "b.py": "import pkg.c\n", "c.py": "from pkg import a\n"}, [["pkg.a", "pkg.b", "pkg.c"]]),
    ({"a.py": "from . import b\n", "b.py": "import os\n"}, []),
    ({"sub/__init__.py": "", "sub/x.py": "from ..a import f\n", "a.py": "from .sub.x import g\n"},
     [["pkg.a", "pkg.sub.x"]]),
])
def test_the_cycle_finder_sees_hidden_cycles(tmp_path, files, expected):
    package = tmp_path / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(source, "utf-8")
    assert cycles(import_graph(package)) == expected


#: the package's stages in the order data flows through them (README's layout): a module imports only
#: from its own stage or an earlier one, so that each stage can be read, tested and replaced without the
#: later ones (the top-level modules: ``peacetalks`` for the version, ``defaults``, ``cli`` at the end)
STAGES = ["peacetalks", "peacetalks.defaults", "peacetalks.diagnostics", "peacetalks.model", "peacetalks.reading",
          "peacetalks.checks", "peacetalks.release", "peacetalks.tools", "peacetalks.cli"]


def stage(module: str) -> int:
    return max(i for i, s in enumerate(STAGES) if module == s or module.startswith(s + "."))


def backward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in graph.items() for b in targets if stage(b) > stage(a))


def test_every_stage_imports_only_earlier_stages():
    found = backward_imports(import_graph())
    assert found == [], "imports of a later stage (function-level ones count): " + "; ".join(
        f"{a} -> {b}" for a, b in found)


def test_a_later_stage_imported_inside_a_function_is_found(tmp_path):
    package = tmp_path / "peacetalks"
    for name, source in {"__init__.py": "", "release/__init__.py": "", "tools/__init__.py": "",
                         "release/build.py": "def f():\n    from ..tools.view import g\n",
                         "tools/view.py": "from ..release import build\n"}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(source, "utf-8")
    assert backward_imports(import_graph(package)) == [("peacetalks.release.build", "peacetalks.tools.view")]
