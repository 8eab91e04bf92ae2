"""`mlws check`: every experiment file composes, validates and plans; nothing runs, nothing is recorded.

Safe on an untrusted checkout (safe.py, sandbox.py): composition reads a private copy of the
configs, and the only classes imported are mlws's own compute backends, to plan a run's compute
(a cloud task goes through SkyPilot's own validation).
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from ..errors import MlwsError
from ..workspace import Workspace
from .bounded import limit_memory
from .confine import confine
from .safe import harden, trusted_target
from .sandbox import private_copy


def check_experiments(ws: Workspace, names: list[str] | None = None) -> list[dict]:
    """One entry per experiment file: {experiment, file, ok, error, compute, notes}; a config file
    refused before composing gets an entry of its own (experiment None)."""
    from .parallel import map_in_chunks, workers_for

    names = list(names or ws.experiment_names())
    with tempfile.TemporaryDirectory(prefix="mlws-check-") as tmp:
        copy = Path(tmp) / "ws"
        refused = split_problems(private_copy(ws.root, copy))
        chunk = functools.partial(_check_chunk, str(copy), str(ws.root), refused)
        # composed in forked workers only: the hardening, the confinement and the memory cap stay
        # there, never in the calling process (a notebook, a test session calling mlws.check)
        results = map_in_chunks(
            chunk,
            names,
            workers_for(len(names)),
            isolated=True,
            initializer=_hardened,
            initargs=(str(ws.root), str(copy)),
        )
    experiment_files = {r["file"] for r in results}
    others = [_entry(None, file, error=reason) for file, reason in refused.items() if file not in experiment_files]
    return others + results


def _hardened(root: str, copy: str) -> None:
    """A review worker's set-up (see safe.py, confine.py, bounded.py)."""
    harden(Path(root))
    confine(Path(copy))
    limit_memory()


def split_problems(problems: list[tuple[str, str]]) -> dict[str, str]:
    """{path: reason} from the sandbox's (path, reason) problems."""
    return dict(problems)


def _entry(name, file, *, error=None) -> dict:
    return {"experiment": name, "file": file, "ok": False, "error": error, "compute": None, "notes": []}


def _check_chunk(copy_root: str, real_root: str, refused: dict, names: list[str]) -> list[dict]:
    from .bounded import Budget

    ws = Workspace(Path(copy_root))
    known = ws.experiment_names()
    base_cache: dict = {}
    budget = Budget()
    out = []
    for name in names:
        entry = check_one(ws, name, base_cache, known, budget, refused)
        # messages name the user's files, not the private copy
        entry["error"] = entry["error"] and entry["error"].replace(copy_root, real_root)
        entry["notes"] = [n.replace(copy_root, real_root) for n in entry["notes"]]
        out.append(entry)
    return out


def check_one(ws: Workspace, name: str, base_cache: dict, known: list[str], budget, refused: dict) -> dict:
    from .bounded import reviewed

    file = f"experiments/{name}.yaml"
    entry = _entry(name, file)
    if file in refused:
        entry["error"] = refused[file]
        return entry
    try:
        config = reviewed(name, budget, lambda: _composed(ws, name, base_cache, name in known))
        # planned in the private copy (conf/ and experiments/ only): a backend reads nothing else of
        # the branch (a pyproject.toml linked to a runner's file, say)
        entry["compute"], entry["notes"] = reviewed(name, budget, lambda: plan_compute(ws.root, name, config))
        entry["ok"] = True
    except MlwsError as e:
        entry["error"] = str(e)
    return entry


def _composed(ws: Workspace, name: str, base_cache: dict, exists: bool) -> dict:
    if exists:
        yaml_problem(ws.experiments_dir / f"{name}.yaml")
    return compose_and_validate(ws, name, base_cache)


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

    from ..yaml_read import read_yaml

    try:
        data = read_yaml(path.read_text())
    except ValueError as e:
        raise MlwsError(f"{path.name}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise MlwsError(f"{path.name} is not valid YAML:{where}: {problem}") from None
    if data is not None and not isinstance(data, dict):
        raise MlwsError(f"{path.name} must be a YAML mapping (keys and values), not {type(data).__name__}")


def plan_compute(root: Path, name: str, config: dict) -> tuple[str | None, list[str]]:
    """Plan the run's compute with its backend: (backend name, notes); raises MlwsError."""
    from ..compute import get_backend
    from ..spec import RunSpec

    compute = dict(config.get("compute") or {})
    target = compute.get("_target_")
    if not trusted_target(target):
        return str(target), [
            f"compute not planned: {target!r} is not one of mlws's backends, and check imports nothing a branch names"
        ]
    backend = get_backend(compute)  # no workspace: nothing from the checkout becomes importable
    compute, notes = without_local_mounts(compute)
    spec = RunSpec(
        experiment=name,
        overrides=(f"+experiment={name}",),
        config={**config, "compute": compute},
        workspace=str(root),
        command=f"mlws check {name}",
        created_at="",
        git={},
        versions={},
    )
    planned = backend.plan(spec) or {}
    return backend.name, [*(planned.get("lines") or []), *(planned.get("notes") or []), *notes]


def without_local_mounts(compute: dict) -> tuple[dict, list[str]]:
    """Pure: compute with its local-path mounts left out, and a note naming them. A branch's value
    is never looked up on the reviewing machine's disk (ok or "does not exist" would tell a fork
    which files the runner has); bucket mounts are still planned."""
    mounts = compute.get("mounts")
    if not isinstance(mounts, list):
        return compute, []
    local = [m for m in mounts if isinstance(m, str) and ":" in m and "://" not in m.rpartition(":")[0]]
    if not local:
        return compute, []
    kept = [m for m in mounts if m not in local]
    return {**compute, "mounts": kept}, [f"compute.mounts: {len(local)} local path(s) not looked up during review"]
