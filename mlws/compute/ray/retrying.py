"""A Ray job's entrypoint: the one worker, started again when it is killed.

Ray's Jobs API never retries a job's entrypoint, so a worker killed by the kernel's OOM killer, a
`kill -9` or a crash of its process ends the run. This small supervisor (`python -m
mlws.compute.ray.retrying`) runs `python -m mlws.worker --spec-from-env` and, when it died of a signal
and left a last.ckpt, starts it again up to `compute.max_retries` times: the worker finds the
checkpoint and carries on as the same run (same run directory and id, the same W&B run, metrics past
the checkpoint written once; mlws/training/resuming.py). A worker that exits by itself (succeeded,
failed with an error, stopped) is never retried: its outcome is recorded already, and an error would
only happen again. A stop (`mlws stop`: Ray sends SIGTERM to the entrypoint and every process under
it) is not retried either; the worker gets Ray's signal itself, so nothing is forwarded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

RETRIES = "MLWS_RAY_RETRIES"

_stopping: list[int] = []


def _on_stop(signum, frame) -> None:
    _stopping.append(signum)


def retry_note(returncode: int, attempt: int, retries: int, last: Path) -> str | None:
    """The line said before a retry, or None when this exit is not retried."""
    if returncode >= 0 or _stopping or attempt >= retries or not last.is_file():
        return None
    return f"mlws: the worker was killed ({_signal_name(-returncode)}); retry {attempt + 1} of {retries}, from {last}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def main() -> int:
    from ... import node_env
    from ...spec import RunSpec

    retries = max(int(os.environ.get(RETRIES) or 0), 0)
    spec = RunSpec.from_json(node_env.spec_json())
    last = Path(os.path.abspath(node_env.run_dir(spec.run_dir))) / "checkpoints" / "last.ckpt"
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _on_stop)
    attempt = 0
    while True:
        child = subprocess.Popen([sys.executable, "-m", "mlws.worker", "--spec-from-env"])
        while True:
            try:
                code = child.wait()
                break
            except InterruptedError:  # a stop's signal arrived while waiting: keep waiting for the worker
                continue
        note = retry_note(code, attempt, retries, last)
        if note is None:
            if code < 0 and not _stopping:  # killed, no retry left: nothing else records it
                _record_killed(spec.run_id, f"the worker was killed ({_signal_name(-code)}) after {attempt} retries")
            return code if code >= 0 else 128 - code
        from ...training.resuming import resume_note

        note = f"{note}: {resume_note(last.parent.parent, last)}"
        print(note, flush=True)
        _record_retry(spec.run_id, note)
        attempt += 1


def _shared_registry():
    from ... import node_env
    from ...registry import open_registry

    url = node_env.shared_registry_url()
    return open_registry(url) if url else None  # None: the worker writes result.json instead


def _record_killed(run_id, error: str) -> None:
    registry = _shared_registry()
    if registry is not None and registry.get(int(run_id))["status"] == "running":
        registry.finish(int(run_id), "failed", error=error)


def _record_retry(run_id, note: str) -> None:
    """With the workspace's registry in reach, the run is this process's again until the next worker
    takes it (a registry reading the dead worker's pid would record the run failed meanwhile), and the
    retry is kept with the run's resumes."""
    from datetime import datetime, timezone

    from ...registry.liveness import process_started

    registry = _shared_registry()
    if registry is None:
        return  # the job's log has the note
    resumes = list((registry.get(int(run_id)).get("artifacts") or {}).get("resumes") or [])
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    resumes.append({"at": at, "from": "killed", "retried_by": "ray job", "forced": False, "changed": [], "note": note})
    registry.update(
        int(run_id),
        status="running",
        ended_at=None,
        error=None,
        pid=os.getpid(),
        pid_started=process_started(os.getpid()),
        artifacts={"resumes": resumes},
    )


if __name__ == "__main__":
    sys.exit(main())
