"""mlws resume RUN: a run that was killed (recorded `failed`) or stopped carries on from its
last.ckpt, as the same run: the same id, run directory, config and W&B run. Where it carries on is its
backend's to say (`Backend.resumable`, `Backend.resume`): a local run in a process here, a Ray run as
a new job writing into the same run directory, a cloud run as a new SkyPilot job into its bucket folder.

Refused, with the reason, when the run cannot carry on (running, finished, no last.ckpt, a backend
that cannot) or when what it was trained with changed since: the code (git commit, uncommitted patch),
the config its experiment and overrides compose to now, or the data's fingerprint. `force=True`
resumes anyway and records what had changed (artifacts["resumes"]). Nothing is recorded for a
refused resume.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MlwsError
from .records import as_dict
from .session import session, workspace_of

if TYPE_CHECKING:
    from ..compute.base import Backend

RESUMABLE = ("failed", "stopped")


def what_changed(ws, record: Mapping[str, Any], *, compare_config: bool = True) -> list[str]:
    """One line per thing that differs between the run's record and the workspace now."""
    from ..provenance import git_state
    from ..training.fingerprint import changed, data_fingerprint, short

    out = []
    git = git_state(ws.root)
    then = (record.get("git") or {}).get("commit")
    if then and git.get("commit") != then:
        out.append(f"code: the workspace is at commit {str(git.get('commit'))[:10]}, the run used {then[:10]}")
    if (record.get("git_patch") or "") != (git.get("patch") or ""):
        out.append(f"code: uncommitted changes differ from the run's (its patch: {record.get('run_dir')}/git.patch)")
    if compare_config:
        out += _config_changes(ws, record)
    recorded = (record.get("artifacts") or {}).get("data")
    now = data_fingerprint((record.get("config") or {}).get("data"), ws.root)
    line = changed(recorded, now)
    if line:
        out.append(line)
    elif recorded and recorded.get("digest") and not now.get("digest"):
        out.append(f"the data: fingerprint {short(recorded['digest'])} then, {now.get('reason')} now")
    return out


def _config_changes(ws, record: Mapping[str, Any]) -> list[str]:
    """The config the run's experiment and overrides compose to now, against the recorded one."""
    from ..history.diff import change_lines, config_diff
    from ..planning import plan

    try:
        spec, _ = plan(ws, list(record.get("overrides") or []), command="mlws resume")
    except MlwsError as e:
        return [f"config: its overrides no longer compose: {e}"]
    lines = change_lines(config_diff(record.get("config") or {}, spec.config))
    if not lines:
        return []
    more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
    return ["config: " + "; ".join(lines[:3]) + more]


def check_resumable(backend: Backend, record: dict[str, Any], runs_dir: Path) -> tuple[Path, Path | str]:
    """(the run's spec.json, its last.ckpt: a path, or a URL in a bucket), or an MlwsError saying why
    this run cannot carry on. Where the run's files are and whether it can carry on there is its
    backend's to say."""
    run_id, status = record["id"], record["status"]
    if status == "running":
        raise MlwsError(f"run {run_id} is running: nothing to resume (mlws stop {run_id} stops it)")
    if status not in RESUMABLE:
        raise MlwsError(f"run {run_id} {status}: nothing to resume (mlws rerun {run_id} runs it again)")
    run_dir = backend.resumable(record)
    # the frozen spec is in the workspace's runs/N (a backend's storage may hold the rest)
    specs = [run_dir / "spec.json"] if isinstance(run_dir, Path) else []
    specs.append(runs_dir / str(run_id) / "spec.json")
    spec_path = next((p for p in specs if p.is_file()), None)
    if spec_path is None:
        raise MlwsError(f"run {run_id} has no spec.json in {specs[0].parent}: it cannot carry on")
    last = backend.last_checkpoint(record, run_dir)
    if last is None:
        where = f"{str(run_dir).rstrip('/')}/checkpoints/last.ckpt"
        raise MlwsError(
            f"run {run_id} has no last checkpoint ({where}): nothing to resume from; mlws rerun {run_id} starts it again"
        )
    return spec_path, last


def resume(run_id: int, *, force: bool = False, detach: bool = False, workspace=None) -> tuple[dict, list[str]]:
    """Carry the run on from its last.ckpt; returns (its record, the changes --force went past).
    The record's `message` says where it carries on from (a partial epoch is trained again)."""
    from ..compute import backend_for
    from ..lifecycle import refresh_status
    from ..registry.liveness import process_started
    from ..spec import RunSpec
    from ..training.resuming import resume_note

    ws = workspace_of(workspace)
    registry = session(ws).registry  # marks failed a run whose process was killed
    record = as_dict(registry.get(int(run_id)))
    backend = backend_for(record, ws.root)
    spec_path, last = check_resumable(backend, record, ws.runs_dir)
    changes = what_changed(ws, record)
    if changes and not force:
        raise MlwsError(
            f"run {run_id} cannot resume: "
            + "; ".join(changes)
            + f" (mlws resume {run_id} --force carries on anyway and records what changed)"
        )
    spec = RunSpec.read(spec_path)
    prepared = backend.prepare(spec)
    # a checkpoint in a bucket is not downloaded to say where it carries on: the node reads it
    note = resume_note(last.parent.parent, last) if isinstance(last, Path) else f"carries on from {last} on the node"
    print(f"run {run_id}: {note}", file=sys.stderr, flush=True)
    history = list((record.get("artifacts") or {}).get("resumes") or [])
    history.append(
        {
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "from": record["status"],
            "stopped_at": record.get("ended_at"),  # the cost leaves out the time it lay stopped
            "forced": bool(changes),
            "changed": changes,
            "note": note,
        }
    )
    registry.update(
        int(run_id),
        status="running",
        ended_at=None,
        error=None,
        stop_reason=None,
        pid=os.getpid(),
        pid_started=process_started(os.getpid()),
        host=socket.gethostname(),
        artifacts={"resumes": history},
    )
    try:
        submitted = backend.resume(record, spec_path, detach=detach, prepared=prepared)
    except MlwsError as e:
        if registry.get(int(run_id))["status"] == "running":
            registry.finish(int(run_id), "failed", error=str(e))
        raise
    if submitted.remote:  # a job elsewhere, as `mlws train` records one (mlws/lifecycle.py)
        registry.update(int(run_id), pid=None, artifacts={"compute": submitted.handle, **submitted.artifacts})
        if not detach:
            backend.follow(submitted.handle)
            refresh_status(registry, [as_dict(registry.get(int(run_id)))], ws.root)
    elif submitted.pid is not None:
        registry.set_owner(int(run_id), submitted.pid)
    return registry.get(int(run_id)) | {"message": submitted.message}, changes
