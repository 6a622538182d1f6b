"""The package's imports form no cycle, and every module imports on its own."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import pytest

import mldns

PACKAGE = Path(mldns.__file__).parent
MODULES = {
    ".".join(("mldns", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__"
    ): path
    for path in PACKAGE.rglob("*.py")
}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path, name: str) -> set[str]:
    """The mldns modules `name` imports anywhere (in functions too), but for type checking."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    stack: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while stack:
        node = stack.pop()
        if _type_checking_only(node):
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # `from package import module` needs the module; the package is imported first by
            # any import of its modules, so it counts only when a name is taken from it.
            names = {f"{base}.{alias.name}" for alias in node.names}
            found.update(names if names <= MODULES.keys() else names | {base})
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(path, name) for name, path in MODULES.items()}


def test_the_import_graph_has_no_cycle() -> None:
    try:
        order = list(graphlib.TopologicalSorter(GRAPH).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None
    assert set(order) == set(MODULES)


def test_the_emulator_imports_nothing_from_the_engine() -> None:
    """It may share pure helpers (regions, the routing rules), never the engine's modules."""
    engine = ("mldns.plan", "mldns.apply", "mldns.state", "mldns.stack", "mldns.workspace")
    engine += ("mldns.cli", "mldns.clients", "mldns.kinds", "mldns.providers", "mldns.resources")
    reached = {name for name in GRAPH if name.startswith("mldns.emulator")}
    frontier = set(reached)
    while frontier:
        frontier = {dep for name in frontier for dep in GRAPH[name]} - reached
        reached |= frontier
    assert sorted(name for name in reached if name.startswith(engine)) == []


@pytest.mark.slow
def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    """Importing any module before all others works: no order of imports is relied upon."""
    script = (
        "import importlib, sys\n"
        f"for name in {sorted(MODULES)!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'mldns' or m.startswith('mldns.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


CORE = ("mldns.planner", "mldns.plan", "mldns.apply", "mldns.render", "mldns.state")
CORE += ("mldns.workspace", "mldns.stack", "mldns.importer")
# What every kind shares; the rest of resources/ and providers/ is one API's.
SHARED = {"mldns.resources", "mldns.resources.base", "mldns.providers", "mldns.providers.base"}
SHARED |= {"mldns.providers.registry"}


def test_the_core_imports_no_api_module() -> None:
    """Kind knowledge reaches the core through the registry and the provider contract only."""
    api = ("mldns.resources.", "mldns.providers.", "mldns.dns", "mldns.compute", "mldns.iam")
    offenders = sorted(
        f"{name} imports {dep}"
        for name, deps in GRAPH.items()
        if name == "mldns.stack" or name.startswith(CORE)
        for dep in deps
        if dep.startswith(api) and dep not in SHARED
    )
    assert offenders == []


def test_a_stack_file_imports_no_google_library() -> None:
    """`import mldns` (what a stack file and a notebook do first) stays light: Google's client
    libraries come with the first plan, not with the declarations or their rules."""
    code = "import sys, mldns\nprint(sorted(m for m in sys.modules if m.startswith(('google.', 'mldns.clients'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
