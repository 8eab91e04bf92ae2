"""The house is one-way: every import inside mlws/ (also inside functions) goes to the same floor or
a lower one, and no modules import each other in a circle. The floors are ARCHITECTURE's:
cli → api → ops → sweeps/review → compute/planning → worker/validate → training/config →
registry/serving/history/spec → the base (errors, monitor, workspace, small helpers)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "mlws"

FLOORS = {
    "testing": 10,  # the suites that ship for tests of code built on mlws (they drive the CLI)
    "cli": 9,
    "api": 8,
    "ops": 7,
    "sweeps": 6,
    "review": 6,
    "compute": 5,
    "planning": 5,
    "scaffold": 5,
    "worker": 4,
    "validate": 4,
    "jupyter": 4,
    "training": 3,
    "config": 3,
    "examples": 3,
    "registry": 2,
    "serving": 2,
    "history": 2,
    "spec": 2,
    "experiments": 2,
    "provenance": 2,
    "errors": 1,
    "monitor": 1,
    "workspace": 1,
    "fileio": 1,
    "flatten": 1,
    "redacted": 1,
    "yaml_read": 1,
    "keymetric": 1,
    "extras": 1,
    "public": 1,
    "targets": 1,
    "stats": 1,
    "node_env": 1,
    "lifecycle": 5,
    "spend": 5,  # reckon.py is pure; runs.py asks each run's backend (compute) to reckon it
}
# The root package (`import mlws`: its version and location) is below everything: its API is
# loaded lazily, on first attribute use, never by an import.
ROOT = "__init__"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def unit(module: str) -> str:
    """mlws.ops.runs -> ops; mlws.spec -> spec; mlws -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def edges() -> set[tuple[str, str]]:
    """(importer, imported) for every import between mlws modules."""
    found = set()
    for module, path in MODULES.items():
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES] or [target]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found |= {(module, n) for n in names if n in MODULES and n != module}
    return found


def test_every_part_of_mlws_has_a_floor():
    units = {unit(m) for m in MODULES} - {ROOT, "conf"}
    assert not units - FLOORS.keys(), f"place these in FLOORS: {sorted(units - FLOORS.keys())}"


def test_no_import_climbs_to_a_higher_floor():
    upward = sorted(
        f"{a} -> {b}" for a, b in edges() if unit(b) != ROOT and unit(a) != ROOT and FLOORS[unit(b)] > FLOORS[unit(a)]
    )
    assert not upward, upward


def test_no_modules_import_each_other_in_a_circle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for a, b in edges():
        graph[a].add(b)
    # Tarjan's strongly connected components, iteratively
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack, on_stack, circles = [], set(), []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    assert not circles, circles


def test_the_scan_sees_what_it_must():
    """The checks above could pass by seeing nothing: they see relative imports inside functions."""
    found = edges()
    assert ("mlws.cli.main", "mlws.cli.commands") in found
    assert ("mlws.compute.ray.train", "mlws.compute.ray.resources") in found
