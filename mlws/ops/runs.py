"""Runs: plan, check, train (record + submit to the run's backend), list, show, watch, stop, logs, files.

Everything that depends on where a run executes goes through its compute backend (mlws.compute).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from ..errors import MlwsError
from ..lifecycle import refresh_status
from .records import as_dict, as_dicts
from .session import session, workspace_of

# Fields of `mlws runs --json`; `show` adds config, git, versions, artifacts and the rest.
SUMMARY_FIELDS = (
    "id",
    "experiment",
    "status",
    "overrides",
    "metrics",
    "monitor",
    "created_at",
    "ended_at",
    "run_dir",
    "backend",
    "error",
    "stop_reason",
    "labels",
    "note",
    "parent_id",
    "sweep_id",
    "trial_index",
)


def plan(overrides=(), *, workspace=None):
    """The validated RunSpec these overrides would run (nothing recorded, no user code run)."""
    from ..planning import plan as make_plan

    spec, _ = make_plan(workspace_of(workspace), list(overrides))
    return spec


def plan_compute(overrides=(), *, workspace=None, output=None) -> dict:
    """{spec, task, estimate}: what the run's backend would do (a cloud task and its price), nothing run.

    `output`: a folder that receives the frozen spec (spec.json) and the task (task.yaml) it mounts,
    so the backend's own tools can launch the task by hand (`sky launch DIR/task.yaml`)."""
    from pathlib import Path

    from ..compute import get_backend

    spec = plan(overrides, workspace=workspace)
    folder = Path(output).resolve() if output is not None else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise MlwsError(f"-o {output}: not a folder")
    spec_path = str(folder / "spec.json") if folder is not None else None
    if folder is not None:
        # launched by hand, the run has no registry id: a unique one keeps its run directory (and a
        # bucket's) from being another hand-launched run's, whose last.ckpt it would resume
        import uuid
        from dataclasses import replace

        spec = replace(spec, run_id=f"plan-{uuid.uuid4().hex[:8]}")
    prepared = get_backend(spec.config.get("compute") or {}, workspace_of(workspace).root).plan(spec, spec_path)
    if folder is not None:  # written only once the backend accepted the plan
        import shutil

        folder.mkdir(parents=True, exist_ok=True)
        spec.write(folder / "spec.json")
        for name, source in (prepared.get("files") or {}).items():  # what the task mounts besides the spec
            shutil.copyfile(source, folder / name)
    return {
        "spec": spec,
        "task": prepared.get("task"),
        "estimate": prepared.get("estimate"),
        "lines": prepared.get("lines") or [],
        "notes": prepared.get("notes") or [],
    }


def train(
    overrides=(), *, detach: bool = False, workspace=None, command: str | None = None, labels=(), note: str = ""
) -> dict:
    """Validate, record and run. Returns the run's record (still 'running' when detached)."""
    from ..planning import plan as make_plan

    ws = workspace_of(workspace)
    spec, patch = make_plan(ws, list(overrides), command=command)
    return launch(ws, spec, patch, detach=detach, labels=labels, note=note)


def launch(ws, spec, patch: str, **kwargs) -> dict:
    """Record a planned run and hand it to its backend (mlws/lifecycle.py)."""
    from ..lifecycle import launch as start

    return start(ws, session(ws).registry, spec, patch, **kwargs)


def runs(*, workspace=None, refresh: bool = False) -> list[dict]:
    """Every recorded run, oldest first, as summary dicts (the `mlws runs --json` contract)."""
    s = session(workspace)
    if refresh:
        refresh_status(s.registry, as_dicts(s.registry.list(status="running")), s.workspace.root)
    classes: dict = {}  # each backend class found once for the whole listing
    return [summary(r, classes) for r in s.registry.list(with_config=True)]


def refresh(run_ids=None, *, workspace=None) -> list[str]:
    """Ask the backends of running remote runs (or of these runs) for their status; returns warnings."""
    s = session(workspace)
    rows = s.registry.list(status="running") if run_ids is None else [s.registry.get(int(i)) for i in run_ids]
    return refresh_status(s.registry, as_dicts(rows), s.workspace.root)


def show(run_id: int, *, workspace=None, refresh: bool = False) -> dict:
    """One run in full: the summary plus config, git, versions, artifacts, command and times."""
    s = session(workspace)
    registry = s.registry
    if refresh:
        for warning in refresh_status(registry, [as_dict(registry.get(int(run_id)))], s.workspace.root):
            print(f"warning: {warning}", file=sys.stderr)
    record = as_dict(registry.get(int(run_id)))  # no longer a RunRecord: the keys below join it
    record["git"] = {**record["git"], "patch": record.pop("git_patch") or ""}
    from .replicate_views import group_of_record

    record["replicate_group"] = group_of_record(registry, record)  # None outside a replicate group
    record["cost"] = cost(record)
    return record


def summary(record: Mapping[str, Any], classes: dict | None = None) -> dict:
    """The listing's fields and the run's `cost` (reckoned from the record: its config needed).
    `classes`: backend classes by `_target_`, shared across a listing (spend/runs.py)."""
    return {k: record.get(k) for k in SUMMARY_FIELDS} | {"cost": cost(record, classes)}


def cost(record: Mapping[str, Any], classes: dict | None = None) -> dict:
    """The run's spend and how it was reckoned ({usd, hours, basis, final}; mlws/ops/cost.py)."""
    from ..spend.runs import run_cost

    return run_cost(record, classes)


def watch(run_id: int, *, workspace=None, thresholds=None, refresh: bool = False) -> dict:
    """A snapshot of a run: status, latest metrics and hardware, progress, warnings."""
    from ..monitor.snapshot import snapshot

    return snapshot(show(run_id, workspace=workspace, refresh=refresh), thresholds)


def stop(run_id: int, *, workspace=None, timeout: float = 120.0, force: bool = False) -> dict:
    """Stop a running run through its backend (mlws/lifecycle.py)."""
    from ..lifecycle import stop as stop_run

    s = session(workspace)
    return stop_run(s.registry, s.workspace.root, run_id, timeout=timeout, force=force)


def logs(run_id: int, *, follow: bool = False, workspace=None, out=None) -> int:
    """Print a run's output (a detached local run's output.log, or its backend's job logs)."""
    from ..compute import backend_for

    s = session(workspace)
    registry = s.registry
    record = as_dict(registry.get(int(run_id)))
    code = backend_for(record, s.workspace.root).logs(record, follow=follow, out=out)
    if follow:  # the run has ended: record how
        refresh_status(registry, [as_dict(registry.get(int(run_id)))], s.workspace.root)
    return code


def down(overrides=(), *, workspace=None) -> str | None:
    """Stop what a compute backend started on this machine for the workspace (a local Ray head)."""
    from ..compute import get_backend
    from ..config import compose

    ws = workspace_of(workspace)
    return get_backend(compose(ws, list(overrides)).config.get("compute") or {}, ws.root).down(ws)


def copy_artifacts(run_id: int, path: str, dest, *, workspace=None) -> dict:
    """Copy RUN:PATH to dest from where the run's backend kept its files."""
    from ..compute import backend_for

    s = session(workspace)
    record = as_dict(s.registry.get(int(run_id)))
    return backend_for(record, s.workspace.root).copy(record, path, dest)
