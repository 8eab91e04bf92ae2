"""A sweep's record in the registry: which recorded sweep a command continues (same fixed overrides
and sweeper settings, same space), who drives it, the run it starts from, its live status."""

from __future__ import annotations

import hashlib
import json
import os
import socket

from ..errors import MlwsError
from .space import SweepArgs


def family(args: SweepArgs) -> str:
    """Sweeps of the same fixed overrides and sweeper settings are one sweep when their space matches."""
    blob = json.dumps({"fixed": sorted(args.fixed), "hydra": sorted(args.hydra)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def earlier_sweep(
    registry, args: SweepArgs, space: dict, *, sweep_id: int | None, resume: bool, force: bool
) -> dict | None:
    """The recorded sweep this command continues, or None for a new one; raises when a resume
    cannot go on (a changed space without --force, nothing to resume, another live driver)."""
    record = registry.sweeps.get(sweep_id) if sweep_id is not None else registry.sweeps.find(family(args))
    if record is not None and record["space"] != space:
        if sweep_id is not None or resume:
            if not force:
                raise MlwsError(
                    f"sweep {record['id']}'s search space changed ({space_change(record['space'], space)}); "
                    "resume it anyway with --force, or start a new sweep without --resume"
                )
        else:
            record = None  # the same experiment with a new space: a new sweep
    if record is None and resume:
        raise MlwsError("no earlier sweep of these overrides to resume (mlws sweeps lists them)")
    if record is not None:
        refuse_if_driven(record)
    return record


def space_change(old: dict, new: dict) -> str:
    parts = [
        f"{k}: {old.get(k, '(none)')} → {new.get(k, '(none)')}"
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    ]
    return "; ".join(parts)


def driver_alive(record: dict) -> bool:
    """Does the process recorded as driving this sweep still run (on this host)?"""
    from ..registry.liveness import process_alive

    return (
        record["status"] == "running"
        and record["host"] == socket.gethostname()
        and process_alive(record["pid"], record["pid_started"])
    )


def refuse_if_driven(record: dict) -> None:
    # the process that started this one in the background (--detach) has handed the sweep over
    if record["pid"] not in (None, os.getpid(), os.getppid()) and driver_alive(record):
        raise MlwsError(
            f"sweep {record['id']} is being run by process {record['pid']}; follow it with: mlws sweep {record['id']}"
        )


def with_live_status(record: dict) -> dict:
    """A sweep recorded 'running' whose driver is gone was interrupted (killed, machine restarted)."""
    if record["status"] == "running" and record["host"] == socket.gethostname() and not driver_alive(record):
        return record | {"status": "interrupted"}
    return record


def base_run(ws, registry, args: SweepArgs) -> int | None:
    """The run the sweep starts from: the parent mlws would choose for its fixed overrides alone."""
    from ..history.parent import choose_parent
    from ..planning import plan

    try:
        spec, _ = plan(ws, list(args.fixed))
    except MlwsError:
        return None
    candidates = registry.parent_candidates([e for e in (spec.experiment, spec.builds_on) if e])
    candidates = [c for c in candidates if c.get("status") == "succeeded"] or candidates
    return choose_parent(spec.config, spec.experiment, None, list(spec.overrides), candidates)
