"""Is the process that owns a run still the same process? (pid plus start time, against reuse)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def process_started(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def process_alive(pid: int | None, started: float | None) -> bool:
    import psutil

    if pid is None:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.create_time() - started) < 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def owned_here(record: Mapping[str, Any]) -> bool:
    """Does a process (on the record's host) own this run? Else its compute backend answers for it.
    Runs elsewhere have no pid; "cloud" marks cloud runs recorded before 0.2, which kept the launcher's."""
    return record.get("pid") is not None and not (record.get("artifacts") or {}).get("cloud")


def owner_alive_here(record: Mapping[str, Any]) -> bool:
    """A run owned by a process of this host, and that process is still running."""
    import socket

    return (
        owned_here(record)
        and record.get("host") == socket.gethostname()
        and process_alive(record.get("pid"), record.get("pid_started"))
    )
