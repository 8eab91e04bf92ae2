"""`mlws check`: every experiment file composes, validates and plans; nothing runs, nothing is recorded.

Safe on an untrusted checkout (see safe.py): the only classes imported are mlws's own compute
backends, to plan a run's compute (a cloud task goes through SkyPilot's own validation).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import MlwsError
from ..workspace import Workspace
from .safe import harden, trusted_target


def check_experiments(ws: Workspace, names: list[str] | None = None) -> list[dict]:
    """One entry per experiment file: {experiment, file, ok, error, compute, notes}."""
    from .parallel import map_in_chunks, workers_for
    harden(ws.root)
    names = list(names or ws.experiment_names())
    return map_in_chunks(_check_chunk, str(ws.root), names, workers_for(len(names)))


def _check_chunk(root: str, names: list[str]) -> list[dict]:
    ws = Workspace(Path(root))
    known = ws.experiment_names()
    base_cache: dict = {}
    return [check_one(ws, name, base_cache, known) for name in names]


def check_one(ws: Workspace, name: str, base_cache: dict, known: list[str]) -> dict:
    path = ws.experiments_dir / f"{name}.yaml"
    entry = {"experiment": name, "file": _relative(path, ws.root), "ok": False, "error": None,
             "compute": None, "notes": []}
    try:
        if name in known:
            yaml_problem(path)
        config = compose_and_validate(ws, name, base_cache)
        entry["compute"], entry["notes"] = plan_compute(ws, name, config)
        entry["ok"] = True
    except MlwsError as e:
        entry["error"] = str(e)
    return entry


def compose_and_validate(ws: Workspace, name: str, base_cache: dict) -> dict:
    from ..config import compose
    from ..validate import validate
    overrides = [f"+experiment={name}"]
    composed = compose(ws, overrides)
    validate(ws, composed, overrides, base_cache=base_cache)
    return composed.config


def yaml_problem(path: Path) -> None:
    """A file that is not YAML gets its own message (Hydra's names neither file nor line)."""
    import yaml
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise MlwsError(f"{path.name} is not valid YAML:{where}: {problem}") from None
    if data is not None and not isinstance(data, dict):
        raise MlwsError(f"{path.name} must be a YAML mapping (keys and values), not {type(data).__name__}")


def plan_compute(ws: Workspace, name: str, config: dict) -> tuple[str | None, list[str]]:
    """Plan the run's compute with its backend: (backend name, notes); raises MlwsError."""
    from ..compute import get_backend
    from ..spec import RunSpec
    compute = dict(config.get("compute") or {})
    target = compute.get("_target_")
    if not trusted_target(target):
        return str(target), [f"compute not planned: {target!r} is not one of mlws's backends, "
                             "and check imports nothing a branch names"]
    backend = get_backend(compute)  # no workspace: nothing from the checkout becomes importable
    spec = RunSpec(experiment=name, overrides=(f"+experiment={name}",), config=config,
                   workspace=str(ws.root), command=f"mlws check {name}", created_at="", git={}, versions={})
    planned = backend.plan(spec) or {}
    return backend.name, [*(planned.get("lines") or []), *(planned.get("notes") or [])]


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
