"""A run's lifecycle, below both the commands (ops/) and the sweep engine (sweeps/), which use it
alike: launch (check with the backend, record, hand over), stop, and the refresh that settles runs
whose backend reports an outcome."""

from __future__ import annotations

import sys

from .errors import MlwsError


def launch(
    ws,
    registry,
    spec,
    patch: str,
    *,
    detach: bool,
    labels=(),
    note: str = "",
    rerun_of: int | None = None,
    trial: dict | None = None,
) -> dict:
    """Record a planned run and hand it to its backend; the record comes back (with a `message`).

    `trial`: a sweep's trial {sweep_id, trial_key, trial_index, study_trial, parent_id}; its lineage
    parent is the sweep's base run (parent_id) when it has one."""
    from dataclasses import replace

    from .compute import get_backend
    from .history.labels import check_label, check_note
    from .history.parent import choose_parent

    labels = tuple(check_label(label) for label in labels)
    spec = replace(spec, labels=labels, note=check_note(note))
    backend = get_backend(spec.config.get("compute") or {}, ws.root)
    prepared = backend.prepare(spec)  # validate, price, reach the cluster: before anything is recorded
    parent = rerun_of if rerun_of is not None else (trial or {}).get("parent_id")
    if parent is None and (trial is not None or not spec.experiment):  # chosen once, from earlier runs
        candidates = registry.parent_candidates([e for e in (spec.experiment, spec.builds_on) if e])
        parent = choose_parent(spec.config, spec.experiment, spec.builds_on, list(spec.overrides), candidates)
    run_id = registry.create(
        spec,
        patch,
        backend.name,
        run_dir_for=lambda i: str(ws.runs_dir / str(i)),
        labels=labels,
        note=spec.note,
        builds_on=spec.builds_on,
        parent_id=parent,
        rerun_of=rerun_of,
        trial=trial,
    )
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
        registry.update(
            run_id,
            pid=None,
            artifacts={"compute": submitted.handle, **submitted.artifacts},
            **({"run_dir": submitted.run_dir} if submitted.run_dir else {}),
        )
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
    from .experiments import links
    from .history import parent

    builds = {**registry.experiment_links(), **links(ws)}  # the files say what experiments build on now
    runs = registry.lineage_runs(sorted(parent.relevant(experiment, builds)))
    new = next(r for r in runs if r["id"] == run_id)
    changed = parent.relink(new, runs, builds, load_configs=registry.configs)
    if changed:
        registry.set_parents(changed)
    return changed


def stop(registry, root, run_id: int, *, timeout: float = 120.0, force: bool = False) -> dict:
    """Stop a running run through its backend: it keeps its last checkpoint and is recorded 'stopped'.

    `force`: when the backend cannot be reached (a cluster that is gone), record the run as stopped."""
    from .compute import backend_for

    record = registry.get(int(run_id))
    if record["status"] != "running":
        raise MlwsError(f"run {run_id} is not running (status: {record['status']})")
    from .registry.liveness import owner_alive_here

    # a process of this host alive now and gone after the stop ended by the stop, even one killed
    # before it could handle the signal (its first second): stopped, not failed
    ours_alive = owner_alive_here(record)
    try:
        final = backend_for(record, root).cancel(record, timeout=timeout)
    except MlwsError as e:
        if not force:
            raise MlwsError(f"{e} (mlws stop {run_id} --force records it as stopped without its backend)") from None
        registry.finish(int(run_id), "stopped", stop_reason=f"marked stopped by mlws stop --force ({e})")
        return registry.get(int(run_id))
    if final is not None and registry.get(int(run_id))["status"] == "running":
        registry.finish(
            int(run_id),
            final.status if final.final else "stopped",
            metrics=final.metrics,
            artifacts=final.artifacts,
            error=final.error,
            stop_reason=final.stop_reason or "stopped by mlws stop",
        )
    if registry.get(int(run_id))["status"] == "running" and ours_alive and not owner_alive_here(record):
        registry.finish(
            int(run_id),
            "stopped",
            stop_reason="stopped by mlws stop before the run could record its own outcome (its first seconds)",
        )
    if registry.get(int(run_id))["status"] == "running":
        registry.reap_dead()
        if registry.get(int(run_id))["status"] == "failed":
            raise MlwsError(f"run {run_id}'s process is gone; it is now recorded as failed")
    return registry.get(int(run_id))


MAX_REFRESH = 50  # runs asked about per refresh: a long-forgotten backlog must not stall a command


def refresh_status(registry, records: list[dict], workspace=None) -> list[str]:
    """Ask each running remote run's backend for its status and record final ones.

    Returns one warning per run whose backend could not answer (the run stays as recorded)."""
    from .compute import backend_for
    from .registry.liveness import owned_here

    warnings = []
    remote = [r for r in records if r["status"] == "running" and not owned_here(r)]
    for summary in remote[-MAX_REFRESH:]:
        record = registry.get(summary["id"])  # in full: the backend reads the run's config
        try:
            state = backend_for(record, workspace).status(record)
        except MlwsError as e:
            warnings.append(f"run {record['id']}: status unknown ({e})")
            continue
        # re-read: a worker on a shared machine may have recorded the outcome meanwhile
        if state is not None and state.final and registry.get(record["id"])["status"] == "running":
            registry.finish(
                record["id"],
                state.status,
                metrics=state.metrics,
                artifacts=state.artifacts,
                error=state.error,
                stop_reason=state.stop_reason,
            )
    return warnings
