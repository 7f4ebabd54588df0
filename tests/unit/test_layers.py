"""The package's layers: no import cycles, and generating the CRDs registers no kopf handler.

A cycle is found on the import graph of every ``import`` and ``from … import`` in the package
(module level, inside functions and under ``TYPE_CHECKING`` alike): a cycle anywhere means two
modules that cannot be understood, or changed, one without the other.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "operator" / "modelarts_operator"
TESTBED = ROOT / "testbed" / "modelarts_testbed"


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``module`` imports (``from . import x`` counts as importing x)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                out.add(target if target in modules else base)
    return {name for name in out if name in modules and name != module}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycles() -> None:
    modules = _modules() | _modules(TESTBED)
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph["modelarts_operator.reconcile.runtime"]  # the graph is really built
    assert graph["modelarts_testbed.node"]
    assert _cycles(graph) == []


def test_the_operator_imports_nothing_of_the_test_bed() -> None:
    """The image installs the operator alone: one import of the test bed from the operator
    package would fail there at run time. The console script's optional registration (an
    ImportError is its answer) is the one exception."""
    modules = _modules() | _modules(TESTBED)
    reached = {
        (name, target)
        for name, path in _modules().items()
        for target in _imports(name, path, modules)
        if target.startswith("modelarts_testbed")
    }
    assert reached == {("modelarts_operator.cli", "modelarts_testbed.cli")}


def test_generating_the_crds_registers_no_kopf_handler() -> None:
    """``crds --write`` reads the kinds' declarations; the kopf handlers are the runner's
    business and go into its own registry, never kopf's default one."""
    code = (
        "import sys, kopf\n"
        "from modelarts_operator.crd.generate import render_all\n"
        "render_all()\n"
        "registry = kopf.get_default_registry()\n"
        "assert not registry._changing.get_all_handlers(), 'handlers registered'\n"
        "assert not registry._watching.get_all_handlers(), 'watchers registered'\n"
        "assert 'modelarts_operator.reconcile.handlers' not in sys.modules\n"
        "assert 'modelarts_operator.reconcile.runtime' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
