"""Runs: plan, check, train (record + submit to the run's backend), list, show, watch, stop, logs, files.

Everything that depends on where a run executes goes through its compute backend (mlws.compute).
"""
from __future__ import annotations

import sys

from ..errors import MlwsError
from .session import refresh_status, session, workspace_of

# Fields of `mlws runs --json`; `show` adds config, git, versions, artifacts and the rest.
SUMMARY_FIELDS = ("id", "experiment", "status", "overrides", "metrics", "monitor", "created_at", "ended_at",
                  "run_dir", "backend", "error", "stop_reason", "labels", "note", "parent_id", "sweep_id", "trial_index")


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
    return {"spec": spec, "task": prepared.get("task"), "estimate": prepared.get("estimate"),
            "lines": prepared.get("lines") or [], "notes": prepared.get("notes") or []}


def train(overrides=(), *, detach: bool = False, workspace=None, command: str | None = None,
          labels=(), note: str = "") -> dict:
    """Validate, record and run. Returns the run's record (still 'running' when detached)."""
    from ..planning import plan as make_plan
    ws = workspace_of(workspace)
    spec, patch = make_plan(ws, list(overrides), command=command)
    return launch(ws, spec, patch, detach=detach, labels=labels, note=note)


def launch(ws, spec, patch: str, *, detach: bool, labels=(), note: str = "", rerun_of: int | None = None,
           trial: dict | None = None) -> dict:
    """Record a planned run and hand it to its backend; the record comes back (with a `message`).

    `trial`: a sweep's trial {sweep_id, trial_key, trial_index, study_trial, parent_id}; its lineage
    parent is the sweep's base run (parent_id) when it has one."""
    from dataclasses import replace

    from ..compute import get_backend
    from ..history.labels import check_label, check_note
    from ..history.parent import choose_parent

    labels = tuple(check_label(label) for label in labels)
    spec = replace(spec, labels=labels, note=check_note(note))
    backend = get_backend(spec.config.get("compute") or {}, ws.root)
    prepared = backend.prepare(spec)  # validate, price, reach the cluster: before anything is recorded
    registry = session(ws).registry
    parent = rerun_of if rerun_of is not None else (trial or {}).get("parent_id")
    if parent is None and (trial is not None or not spec.experiment):  # chosen once, from earlier runs
        candidates = registry.parent_candidates([e for e in (spec.experiment, spec.builds_on) if e])
        parent = choose_parent(spec.config, spec.experiment, spec.builds_on, list(spec.overrides), candidates)
    run_id = registry.create(spec, patch, backend.name, run_dir_for=lambda i: str(ws.runs_dir / str(i)),
                             labels=labels, note=spec.note, builds_on=spec.builds_on, parent_id=parent,
                             rerun_of=rerun_of, trial=trial)
    if spec.experiment:
        try:
            relink(ws, registry, run_id, spec.experiment)
        except MlwsError as e:  # the run goes ahead; its lineage is chosen again by the next run
            print(f"warning: run {run_id}'s lineage parents not updated: {e}", file=sys.stderr)
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
    try:
        submitted = backend.submit(spec_path, detach=detach, prepared=prepared)
    except MlwsError as e:
        if registry.get(run_id)["status"] == "running":  # a local worker records its own failure
            registry.finish(run_id, "failed", error=str(e))
        raise
    if submitted.remote:
        # pid NULL: no process here owns the run; its backend answers for it (merged, never replacing
        # what a worker on a shared machine may already have recorded)
        registry.update(run_id, pid=None, artifacts={"compute": submitted.handle, **submitted.artifacts},
                        **({"run_dir": submitted.run_dir} if submitted.run_dir else {}))
        if not detach:  # recorded first, so `mlws stop` works from another shell meanwhile
            backend.follow(submitted.handle)
            refresh_status(registry, [registry.get(run_id)], ws.root)
    elif submitted.pid is not None:
        registry.set_owner(run_id, submitted.pid)
    return registry.get(run_id) | {"message": submitted.message}


def relink(ws, registry, run_id: int, experiment: str) -> dict[int, int | None]:
    """Set the new run's parent, and choose again those of the runs it may change (of its own
    experiment and of experiments that build on it), so the lineage follows the experiments'
    inheritance whatever the order runs were made in (mlws/history/parent.py). Returns the changes."""
    from ..experiments import links
    from ..history import parent
    builds = {**registry.experiment_links(), **links(ws)}  # the files say what experiments build on now
    runs = registry.lineage_runs(sorted(parent.relevant(experiment, builds)))
    new = next(r for r in runs if r["id"] == run_id)
    changed = parent.relink(new, runs, builds, load_configs=registry.configs)
    if changed:
        registry.set_parents(changed)
    return changed


def runs(*, workspace=None, refresh: bool = False) -> list[dict]:
    """Every recorded run, oldest first, as summary dicts (the `mlws runs --json` contract)."""
    s = session(workspace)
    if refresh:
        refresh_status(s.registry, s.registry.list(status="running"), s.workspace.root)
    return [summary(r) for r in s.registry.list()]


def refresh(run_ids=None, *, workspace=None) -> list[str]:
    """Ask the backends of running remote runs (or of these runs) for their status; returns warnings."""
    s = session(workspace)
    rows = s.registry.list(status="running") if run_ids is None else [s.registry.get(int(i)) for i in run_ids]
    return refresh_status(s.registry, rows, s.workspace.root)


def show(run_id: int, *, workspace=None, refresh: bool = False) -> dict:
    """One run in full: the summary plus config, git, versions, artifacts, command and times."""
    s = session(workspace)
    registry = s.registry
    if refresh:
        for warning in refresh_status(registry, [registry.get(int(run_id))], s.workspace.root):
            print(f"warning: {warning}", file=sys.stderr)
    record = registry.get(int(run_id))
    record["git"] = {**record["git"], "patch": record.pop("git_patch") or ""}
    return record


def summary(record: dict) -> dict:
    out = {k: record.get(k) for k in SUMMARY_FIELDS}
    c = cost(record)
    if c is not None:
        out["cost"] = c
    return out


def cost(record: dict) -> dict | None:
    """The run's price and spend where its backend knows them (a cloud VM); else None."""
    from ..compute import backend_for
    try:
        return backend_for(record).cost(record)
    except MlwsError:  # a listing row of a backend this machine cannot import
        return None


def watch(run_id: int, *, workspace=None, thresholds=None, refresh: bool = False) -> dict:
    """A snapshot of a run: status, latest metrics and hardware, progress, warnings."""
    from ..monitor.snapshot import snapshot
    return snapshot(show(run_id, workspace=workspace, refresh=refresh), thresholds)


def stop(run_id: int, *, workspace=None, timeout: float = 120.0, force: bool = False) -> dict:
    """Stop a running run through its backend: it keeps its last checkpoint and is recorded 'stopped'.

    `force`: when the backend cannot be reached (a cluster that is gone), record the run as stopped."""
    from ..compute import backend_for
    s = session(workspace)
    registry = s.registry
    record = registry.get(int(run_id))
    if record["status"] != "running":
        raise MlwsError(f"run {run_id} is not running (status: {record['status']})")
    try:
        final = backend_for(record, s.workspace.root).cancel(record, timeout=timeout)
    except MlwsError as e:
        if not force:
            raise MlwsError(f"{e} (mlws stop {run_id} --force records it as stopped without its backend)") from None
        registry.finish(int(run_id), "stopped", stop_reason=f"marked stopped by mlws stop --force ({e})")
        return registry.get(int(run_id))
    if final is not None and registry.get(int(run_id))["status"] == "running":
        registry.finish(int(run_id), final.status if final.final else "stopped", metrics=final.metrics,
                        artifacts=final.artifacts,
                        error=final.error, stop_reason=final.stop_reason or "stopped by mlws stop")
    if registry.get(int(run_id))["status"] == "running":
        registry.reap_dead()
        if registry.get(int(run_id))["status"] == "failed":
            raise MlwsError(f"run {run_id}'s process is gone; it is now recorded as failed")
    return registry.get(int(run_id))


def logs(run_id: int, *, follow: bool = False, workspace=None, out=None) -> int:
    """Print a run's output (a detached local run's output.log, or its backend's job logs)."""
    from ..compute import backend_for
    s = session(workspace)
    registry = s.registry
    record = registry.get(int(run_id))
    code = backend_for(record, s.workspace.root).logs(record, follow=follow, out=out)
    if follow:  # the run has ended: record how
        refresh_status(registry, [registry.get(int(run_id))], s.workspace.root)
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
    record = s.registry.get(int(run_id))
    return backend_for(record, s.workspace.root).copy(record, path, dest)
