"""The Python API that the CLI and notebooks call: train, plan, check, runs, show."""
from __future__ import annotations

from pathlib import Path

from .errors import MlwsError
from .workspace import Workspace, find_workspace

# Fields of `mlws runs --json`; `show` adds config, git, versions, artifacts and the rest.
SUMMARY_FIELDS = ("id", "experiment", "status", "overrides", "metrics", "created_at", "ended_at",
                  "run_dir", "backend", "error", "stop_reason")


def _ws(workspace) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else find_workspace(workspace)


def _registry(ws: Workspace):
    from .registry import open_registry
    registry = open_registry(ws.registry_url)
    registry.reap_dead()
    return registry


def plan(overrides=(), *, workspace=None):
    """The validated RunSpec these overrides would run (nothing recorded, no user code run)."""
    from .plan import plan as make_plan
    spec, _ = make_plan(_ws(workspace), list(overrides))
    return spec


def check(experiments=None, *, workspace=None) -> dict[str, str | None]:
    """Compose and validate each experiment: {name: None if fine, else the error message}."""
    from .plan import plan as make_plan
    ws = _ws(workspace)
    names = experiments or ws.experiment_names()
    results: dict[str, str | None] = {}
    for name in names:
        try:
            make_plan(ws, [f"+experiment={name}"])
            results[name] = None
        except MlwsError as e:
            results[name] = str(e)
    return results


def train(overrides=(), *, detach: bool = False, workspace=None, command: str | None = None) -> dict:
    """Validate, record and run. Returns the run's record (still 'running' when detached)."""
    from .compute import get_backend
    from .plan import plan as make_plan

    ws = _ws(workspace)
    spec, patch = make_plan(ws, list(overrides), command=command)
    backend = get_backend(spec.config.get("compute", {}).get("backend", "local"))
    registry = _registry(ws)
    run_id = registry.create(spec, patch, backend.name, run_dir_for=lambda i: str(ws.runs_dir / str(i)))
    try:
        run_dir = ws.runs_dir / str(run_id)
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        if patch:
            (run_dir / "git.patch").write_text(patch)
        spec = spec.with_run(run_id, str(run_dir))
        spec_path = spec.write(run_dir / "spec.json")
    except BaseException as e:
        registry.finish(run_id, "failed", error=f"could not prepare the run directory: {e}")
        raise
    submitted = backend.submit(spec_path, detach=detach)
    if detach:
        registry.set_owner(run_id, submitted["pid"])
        return registry.get(run_id)
    return submitted


def runs(*, workspace=None) -> list[dict]:
    """Every recorded run, oldest first, as summary dicts (the `mlws runs --json` contract)."""
    return [summary(r) for r in _registry(_ws(workspace)).list()]


def show(run_id: int, *, workspace=None) -> dict:
    """One run in full: the summary plus config, git, versions, artifacts, command and times."""
    record = _registry(_ws(workspace)).get(int(run_id))
    record["git"] = {**record["git"], "patch": record.pop("git_patch") or ""}
    return record


def summary(record: dict) -> dict:
    return {k: record.get(k) for k in SUMMARY_FIELDS}


def run_dir(run_id: int, *, workspace=None) -> Path:
    return Path(show(run_id, workspace=workspace)["run_dir"])


def watch(run_id: int, *, workspace=None, thresholds=None) -> dict:
    """A snapshot of a run: status, latest metrics and hardware, progress, warnings."""
    from .monitor.snapshot import snapshot
    return snapshot(show(run_id, workspace=workspace), thresholds)


def stop(run_id: int, *, workspace=None, timeout: float = 120.0) -> dict:
    """Ask a local run to stop (SIGTERM): it saves its last checkpoint and records 'stopped'."""
    import os
    import signal
    import socket
    import time

    from .registry.liveness import process_alive

    ws = _ws(workspace)
    registry = _registry(ws)
    record = registry.get(int(run_id))
    if record["status"] != "running":
        raise MlwsError(f"run {run_id} is not running (status: {record['status']})")
    if record["host"] != socket.gethostname():
        raise MlwsError(f"run {run_id} runs on host {record['host']!r}, not this one")
    if not process_alive(record["pid"], record["pid_started"]):
        registry.reap_dead()
        raise MlwsError(f"run {run_id}'s process is gone; it is now recorded as failed")
    os.kill(record["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = registry.get(int(run_id))
        if record["status"] != "running":
            return record
        time.sleep(0.2)
    raise MlwsError(f"run {run_id} did not stop within {timeout:.0f} s (pid {record['pid']}); "
                    f"kill it with: kill -9 {record['pid']}")
