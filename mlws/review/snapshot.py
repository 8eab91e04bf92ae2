"""Every experiment's effective config in one checkout, in a process of its own:

    python -P -m mlws.review.snapshot ROOT OUT.json

`mlws diff --git` runs one per side, so nothing one side composed (Hydra's global state, a
resolver, a module) can leak into the other. Hardened like `mlws check` (safe.py).
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

from ..errors import MlwsError
from ..workspace import Workspace
from .bounded import limit_memory
from .confine import confine
from .safe import harden

PLACEHOLDER = "<workspace>"  # the checkout's own path, which differs between the two sides


def snapshot(root: Path) -> dict:
    """{name: {"config", "error", "builds_on"}} for every experiment file under root."""
    from .parallel import map_in_chunks, workers_for

    ws = Workspace(Path(root).resolve())
    harden(ws.root)
    confine(ws.root)  # ws.root is the private copy; before the workers fork, as the memory cap
    limit_memory()
    names = ws.experiment_names()
    # the other side of the diff runs at the same time: half the cores each
    chunk = functools.partial(_snapshot_chunk, str(ws.root))
    return dict(map_in_chunks(chunk, names, workers_for(len(names), share=2)))


def _snapshot_chunk(root: str, names: list[str]) -> list[tuple[str, dict]]:
    from ..experiments import builds_on
    from .bounded import Budget, reviewed
    from .check import compose_and_validate, yaml_problem

    ws = Workspace(Path(root))
    base_cache: dict = {}
    budget = Budget()
    out: dict = {}

    def parent(name: str) -> str | None:
        yaml_problem(ws.experiments_dir / f"{name}.yaml")  # its own message, with the line
        return builds_on(ws, name)

    for name in names:
        parent_name = None
        try:
            parent_name = reviewed(name, budget, lambda name=name: parent(name))
            config = reviewed(name, budget, lambda name=name: compose_and_validate(ws, name, base_cache))
            out[name] = {"config": _without_root(config, str(ws.root)), "error": None, "builds_on": parent_name}
        except MlwsError as e:
            out[name] = {"config": None, "error": str(e).replace(str(ws.root), PLACEHOLDER), "builds_on": parent_name}
    return list(out.items())


def _without_root(value, root: str):
    if isinstance(value, dict):
        return {k: _without_root(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_root(v, root) for v in value]
    return value.replace(root, PLACEHOLDER) if isinstance(value, str) else value


def main(argv: list[str]) -> int:
    root, out = Path(argv[0]), Path(argv[1])
    if not (root / "conf" / "config.yaml").is_file():
        result = {"error": "no conf/config.yaml"}
    else:
        result = {"experiments": snapshot(root)}
    out.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
