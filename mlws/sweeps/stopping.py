"""Stopping a sweep (a replicate group, an ablation) that runs in the background: `mlws sweep ID --stop`.

The driver takes SIGTERM as a request to stop: it stops the trials still running (each keeps its
last checkpoint and is recorded `stopped`, as with Ctrl-C) and records the sweep `stopped`. Before,
SIGTERM ended the driver at once and its running trial trained on, unowned. A driver that is already
gone leaves only its runs to stop, and the sweep is recorded `stopped` here."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

from ..errors import MlwsError


class StopRequested(KeyboardInterrupt):
    """SIGTERM in a sweep's driver: handled where Ctrl-C is (the running trials are stopped)."""


_requested = threading.Event()


def requested() -> bool:
    return _requested.is_set()


@contextlib.contextmanager
def stoppable():
    """While driving: SIGTERM raises StopRequested in the main thread (elsewhere: nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        if not _requested.is_set():  # once: a second SIGTERM must not interrupt the clean stop
            _requested.set()
            raise StopRequested()

    _requested.clear()
    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_sweep(registry, root, sweep_id: int, *, timeout: float = 180.0) -> dict:
    """Stop this sweep's driver and its running trials; returns the sweep's record."""
    from ..lifecycle import stop
    from .records import driver_alive

    record = registry.sweeps.get(int(sweep_id))
    if record["status"] != "running":
        raise MlwsError(f"sweep {sweep_id} is not running (it is {record['status']})")
    if driver_alive(record):
        os.kill(record["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while registry.sweeps.get(int(sweep_id))["status"] == "running":
            if time.monotonic() > deadline:
                raise MlwsError(f"sweep {sweep_id}'s driver (pid {record['pid']}) did not stop within {timeout:g} s")
            time.sleep(0.2)
    for run in registry.list(sweep_id=int(sweep_id)):  # what an earlier, dead driver left running
        if run["status"] == "running":
            stop(registry, root, run["id"], timeout=60)
    if registry.sweeps.get(int(sweep_id))["status"] == "running":
        from ..registry.store import now_iso

        registry.sweeps.update(int(sweep_id), status="stopped", error="stopped", ended_at=now_iso(), pid=None)
    return registry.sweeps.get(int(sweep_id))
