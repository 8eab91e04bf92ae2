"""The import rules the module docstrings state, checked on the source (every import, also inside
functions): which packages may import each heavy library, and that only training code and the
examples import one at module level (so `mlws --help`, `runs`, `diff` stay light)."""

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mlws"
HEAVY = (
    "torch",
    "pytorch_lightning",
    "lightning",
    "ray",
    "sky",
    "wandb",
    "hydra",
    "fastapi",
    "matplotlib",
    "plotly",
    "psycopg",
    "sklearn",
    "safetensors",
    "pandas",
    "optuna",
    "gradio",
)
# library → the only places (files or folders under mlws/) that may import it at all
ALLOWED = {
    "sky": ["compute/sky/client.py", "compute/sky/pricing.py", "compute/sky/clusters.py", "compute/sky/artifacts.py"],
    "ray": ["compute/ray/", "serving/"],
    "torch": ["training/", "serving/", "examples/", "compute/sky/nodes.py"],  # nodes: the GPU check on a node
    "pytorch_lightning": ["training/", "examples/"],
    "lightning": ["training/", "examples/"],
    "hydra": [
        "config.py",
        "training/builder.py",
        "serving/",
        "sweeps/space.py",
        "sweeps/multirun.py",
        "sweeps/grid.py",
        "sweeps/distributions.py",
        "sweeps/optuna_sweeper.py",
        "review/confine.py",
    ],  # confine: guards the paths Hydra's own config sources open
    "optuna": ["sweeps/study.py", "sweeps/distributions.py", "sweeps/optuna_sweeper.py", "sweeps/random_search.py"],
    "wandb": ["training/", "history/wandb_mirror.py"],
    "fastapi": ["serving/"],
    "psycopg": ["registry/dialects.py"],
    "safetensors": ["training/safe_weights.py", "serving/loading.py"],
    "pandas": ["ops/notebook.py"],
    "gradio": ["serving/gradio_page.py"],  # mlws[demo]'s page, built in a replica only
}
MODULE_LEVEL_OK = ["training/", "examples/", "serving/app.py"]


@functools.cache
def imports() -> tuple[tuple[str, str, bool], ...]:
    """(file under mlws/, top-level library, at module level?) for every import statement: parsed
    once for all the rules below."""
    return tuple(_scan())


def _scan():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                yield str(path.relative_to(PACKAGE)), name.split(".")[0], id(node) in top


def _within(rel: str, places: list[str]) -> bool:
    return any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in places)


def test_the_scan_sees_imports_inside_functions():
    seen = {(rel, lib) for rel, lib, _ in imports()}
    assert ("compute/sky/client.py", "sky") in seen and ("compute/ray/backend.py", "ray") in seen


@pytest.mark.parametrize("library", sorted(ALLOWED))
def test_each_heavy_library_is_imported_only_where_allowed(library):
    wrong = sorted({rel for rel, lib, _ in imports() if lib == library and not _within(rel, ALLOWED[library])})
    assert not wrong, f"{library} imported in {wrong}; allowed only in {ALLOWED[library]}"


def test_heavy_libraries_are_imported_at_module_level_only_by_training_code():
    wrong = sorted(
        {(rel, lib) for rel, lib, top in imports() if top and lib in HEAVY and not _within(rel, MODULE_LEVEL_OK)}
    )
    assert not wrong, f"module-level heavy imports: {wrong}"


def test_nothing_outside_compute_names_a_backend():
    """Backends are plugins: code outside mlws/compute/ never compares against a backend's name."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        if rel.startswith("compute/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):  # backend == "sky", name in ("local", ...), ...
                for const in ast.walk(node):
                    if isinstance(const, ast.Constant) and const.value in ("local", "sky", "ray", "skypilot"):
                        offenders.append(f"{rel}:{node.lineno} {const.value!r}")
    assert not offenders, offenders
