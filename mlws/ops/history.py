"""Run history: labels, notes, search, diff, lineage, rerun and the HTML report (registry only)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MlwsError
from .runs import summary
from .session import session, workspace_of

if TYPE_CHECKING:
    from ..registry import Registry


def label(run_id: int, labels: list[str], *, remove: bool = False, workspace=None) -> dict:
    """Add (or with remove=True take away) labels; returns the run's labels."""
    from ..history.labels import check_label

    for name in labels:
        check_label(name)
    registry = session(workspace).registry
    record = registry.get(int(run_id))
    current = list(record["labels"] or [])
    if remove:
        missing = [l for l in labels if l not in current]
        if missing:
            raise MlwsError(f"run {run_id} has no label {', '.join(missing)} (labels: {', '.join(current) or 'none'})")
        current = [l for l in current if l not in labels]
    else:
        current += [l for l in labels if l not in current]
    registry.update(int(run_id), labels=current)
    # W&B keeps its own tags (the experiment, "stopped", ones added in its UI): change only ours
    _mirror_to_wandb(record, add_tags=[] if remove else labels, remove_tags=labels if remove else [])
    return {"id": int(run_id), "labels": current}


def note(run_id: int, text: str, *, workspace=None) -> dict:
    from ..history.labels import check_note

    check_note(text)
    registry = session(workspace).registry
    record = registry.get(int(run_id))
    registry.update(int(run_id), note=text)
    _mirror_to_wandb(record, notes=text)
    return {"id": int(run_id), "note": text}


def _mirror_to_wandb(record: Mapping[str, Any], **changes) -> None:
    """Labels become W&B tags and the note the W&B notes, for runs that synced online."""
    from ..history.wandb_mirror import mirror

    mirror(record, **changes)


def search_runs(
    *,
    label=None,
    experiment=None,
    status=None,
    search=None,
    where=(),
    sort=None,
    ascending=False,
    limit=None,
    workspace=None,
) -> list[dict]:
    """Filtered, sorted runs (summaries with labels and note). `where`: ["val/acc>0.9", ...]."""
    from ..history.query import condition_parts

    registry = session(workspace).registry
    filters = dict(experiment=experiment, status=status, label=label, search=search)
    if where or sort:
        # The database filters and sorts on the metrics they name; whole rows are read for the
        # runs that are shown.
        ids = registry.select_by_metrics([condition_parts(c) for c in where or ()], sort, ascending, limit, **filters)
        by_id = {r["id"]: r for r in registry.list(ids=ids, with_config=True)}
        rows = [by_id[i] for i in ids if i in by_id]
    else:  # the newest `limit` runs come straight from SQL
        rows = registry.list(**filters, newest=limit, with_config=True)  # config: the run's cost
    classes: dict = {}  # each backend class found once for the whole listing
    return [summary(r, classes) | {"labels": r["labels"], "note": r["note"], "parent": r["parent_id"]} for r in rows]


def best_run_id(registry: Registry, metric: str, mode: str | None = None) -> int:
    """The best succeeded run by `metric`: the mode given, else the one its runs declare, else guessed."""
    from ..history.chain import metric_mode

    if mode is None:
        declared = registry.declared_modes(metric)
        mode = declared.pop() if len(declared) == 1 else metric_mode(metric)
    run_id = registry.best(metric, mode)
    if run_id is None:
        raise MlwsError(f"no succeeded run has the metric {metric!r}")
    return run_id


def count_runs(*, label=None, experiment=None, status=None, search=None, workspace=None) -> int:
    return session(workspace).registry.count(experiment=experiment, status=status, label=label, search=search)


def diff(a: int, b: int, *, workspace=None) -> dict:
    from ..history.diff import run_diff
    from .cost import cost_diff

    registry = session(workspace).registry
    first, second = registry.get(int(a)), registry.get(int(b))
    from .replicate_views import diff as replicate_diff

    return run_diff(first, second) | {
        "cost": cost_diff(first, second),
        "replicates": replicate_diff(registry, first, second),
    }


def lineage(
    run_id: int | None = None,
    *,
    best: str | None = None,
    mode: str | None = None,
    metric: str | None = None,
    workspace=None,
) -> list[dict]:
    """The chain from the root to `run_id` (or to the best run by `best`), one step per run."""
    from ..history.chain import steps

    registry = session(workspace).registry
    ranking = None
    if best:  # with replicate groups recorded, the best group by its mean (and is it distinguishable?)
        from .replicate_views import best_groups

        ranking = best_groups(registry, best, mode)
        run_id = ranking["target"] if ranking else best_run_id(registry, best, mode)
    if run_id is None:
        raise MlwsError("name a run, or --best METRIC")
    ids = registry.ancestors(int(run_id))
    records = {r["id"]: r for r in registry.list(ids=ids, full=True)}
    from .cost import chain_costs
    from .replicate_views import chain as with_replicates

    return with_replicates(
        registry, chain_costs(registry, steps([records[i] for i in ids], metric=best or metric)), ranking
    )


def lineage_tree(*, workspace=None) -> list[dict]:
    """Every run with its parent: [{id, experiment, parent, status, labels, metrics}]."""
    return [
        {
            "id": r["id"],
            "experiment": r["experiment"],
            "parent": r["parent_id"],
            "status": r["status"],
            "labels": r["labels"],
            "metrics": r["metrics"],
            "monitor": r["monitor"],
        }
        for r in session(workspace).registry.list()
    ]


def rerun(run_id: int, *, detach: bool = False, workspace=None) -> tuple[dict, list[str]]:
    """Run again with the recorded resolved config; returns (record, warnings about what differs)."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from ..provenance import git_state, package_versions
    from ..spec import RunSpec

    ws = workspace_of(workspace)
    old = session(ws).registry.get(int(run_id))
    git = git_state(ws.root)
    patch = git.pop("patch")
    warnings = rerun_warnings(old, git, patch, package_versions())
    from ..training.fingerprint import changed, data_fingerprint

    data = changed(
        (old.get("artifacts") or {}).get("data"), data_fingerprint((old["config"] or {}).get("data"), ws.root)
    )
    if data:  # by name: the rerun trains on other data than the run did
        warnings.append(f"{data} since run {run_id}")
    spec = RunSpec(
        experiment=old["experiment"],
        overrides=tuple(old["overrides"]),
        config=old["config"],
        workspace=str(ws.root),
        command=f"mlws rerun {run_id}",
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        git=git,
        versions=package_versions(),
        builds_on=old.get("builds_on"),
    )
    spec = replace(spec, labels=(), note=f"rerun of run {run_id}")
    from .runs import launch

    return launch(ws, spec, patch, detach=detach, note=spec.note, rerun_of=int(run_id)), warnings


def rerun_warnings(old: Mapping[str, Any], git_now: dict, patch_now: str, versions_now: dict) -> list[str]:
    out = []
    then = (old.get("git") or {}).get("commit")
    if then and git_now.get("commit") != then:
        out.append(
            f"the workspace is at commit {str(git_now.get('commit'))[:10]}, run {old['id']} used "
            f"{then[:10]}: `git checkout {then[:10]}` to reproduce its code exactly"
        )
    if (old.get("git_patch") or "") != (patch_now or ""):
        out.append(f"uncommitted changes differ from run {old['id']}'s (its patch: {old.get('run_dir')}/git.patch)")
    changed = [
        f"{k} {v} → {versions_now.get(k)}" for k, v in (old.get("versions") or {}).items() if versions_now.get(k) != v
    ]
    if changed:
        out.append("package versions differ: " + ", ".join(changed))
    return out


def report(
    output, *, metric: str | None = None, runs_for_curves=None, workspace=None, sweep: int | None = None
) -> Path:
    """Write the HTML report; the lineage shown leads to the best run by `metric` (default: the
    newest run's own monitor.metric and mode; its monitor.loss gets a curve too). `sweep`: a page
    for that sweep instead (parallel coordinates of its trials)."""
    from ..fileio import write_atomic
    from ..history.chain import metric_mode
    from ..history.report import build_report, curve_ids, read_curves
    from ..keymetric import monitor_of

    ws = workspace_of(workspace)
    registry = session(ws).registry
    if sweep is not None:
        from ..history.sweep_report import build_sweep_report
        from .sweeps import view

        shown = view(int(sweep), workspace=ws)
        trials = registry.list(sweep_id=int(sweep))
        ids = (
            list(runs_for_curves)
            if runs_for_curves
            else [t["run"] for t in shown["trials"] if t["value"] is not None][:8]
        )
        loss = monitor_of(trials[-1])["loss"] if trials else None
        path = Path(output)
        write_atomic(path, build_sweep_report(shown, trials, read_curves(trials, ids), loss))
        return path
    rows = registry.list()
    newest: dict[str, Any] = monitor_of(rows[-1]) if rows else {"metric": None, "mode": "max", "loss": None}
    metric = metric or newest["metric"]
    if not metric:
        raise MlwsError("the runs name no monitor.metric; say which metric the report follows with --metric")
    mode = newest["mode"] if metric == newest["metric"] else metric_mode(metric)
    chain = []
    if any(isinstance((r.get("metrics") or {}).get(metric), (int, float)) for r in rows if r["status"] == "succeeded"):
        chain = lineage(best_run_id(registry, metric, mode), metric=metric, workspace=ws)
    ids = list(runs_for_curves) if runs_for_curves else curve_ids(rows, chain, metric, mode)
    from ..spend.runs import costs_by_id

    page = build_report(
        rows,
        chain,
        read_curves(rows, ids),
        metric,
        mode,
        newest["loss"],
        title=f"mlws report · {ws.root.name}",
        costs=costs_by_id(registry, rows),
    )
    from ..history.ablation_report import stored, with_section

    page = with_section(page, stored(ws.state_dir))  # each `mlws ablate RUN` kept in the workspace
    path = Path(output)
    write_atomic(path, page)
    return path
