"""On a cloud node, the job's `run`: `python -m mlws.compute.sky.node_run /mlws/spec.json`.

It runs the worker (`python -m mlws.worker SPEC`) and turns its end into what SkyPilot acts on:

- exit TRANSIENT_EXIT (75, EX_TEMPFAIL) when training failed in a way another attempt can get past (an
  NCCL/gloo timeout, a peer that vanished): the task's `job_recovery.recover_on_exit_codes` names that
  code, so SkyPilot relaunches only those. A setup error, a node whose torch cannot see its GPUs and a
  user's exception exit 1: never retried (each retry is a new VM and a full setup, paid for). Transient
  retries are bounded too (MAX_TRANSIENT, counted in the run directory: a bucket keeps the count).
- a hard wall-clock limit: the guards stop training at a batch end, so a hung data loader or collective
  would bill on. After compute.max_runtime_minutes + GRACE the worker gets SIGTERM, then SIGKILL, and the
  run is recorded `stopped` with the reason.
- a resumed job's cost ledger (spend.json) first gets the minutes between its last save and this start
  (the preemption, provisioning, setup), which the cost guard would otherwise never count.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ... import node_env

TRANSIENT_EXIT = 75
MAX_TRANSIENT = 3
GRACE_S = 300.0  # beyond max_runtime_minutes: the time guard stops first when training is not hung
GRACE_ENV = "MLWS_HARD_STOP_GRACE_S"  # another grace (the tests' seconds)
KILL_AFTER_S = 60.0  # SIGTERM to SIGKILL
MARK_ENV = "MLWS_TRANSIENT_MARK"


def transient(error: BaseException) -> bool:
    """An error of the collective layer that another attempt (new nodes) can get past."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        name, text = type(error).__name__, str(error)
        if name in ("DistBackendError", "DistNetworkError", "DistStoreError"):
            return True
        if "NCCL" in text and any(w in text.lower() for w in ("timeout", "timed out", "watchdog", "remote process")):
            return True
        if any(s in text for s in ("Connection reset by peer", "Connection closed by peer")):
            return True
        error = error.__cause__ or error.__context__
    return False


def mark_transient(error: BaseException) -> None:
    """Inside the worker (SkyBackend.run_fit): leave a mark for this runner when the error is transient."""
    path = os.environ.get(MARK_ENV)
    if path and transient(error):
        Path(path).write_text(f"{type(error).__name__}: {error}"[:2000])


def _rank_zero() -> bool:
    return os.environ.get("SKYPILOT_NODE_RANK", "0") == "0"


def _record_stopped(run_dir: Path, reason: str) -> None:
    """The run's outcome after a hard stop: the worker's own record, with the reason corrected."""
    from ...fileio import write_atomic
    from ...worker import RESULT_MARKER

    path = run_dir / "result.json"
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        result = {"id": node_env.run_id()}
    result.update(status="stopped", stop_reason=reason)
    write_atomic(path, json.dumps(result, indent=2, default=str))
    outcome = {k: result.get(k) for k in ("status", "metrics", "stop_reason", "error")}
    print(f"{RESULT_MARKER}{json.dumps(outcome, default=str)}", flush=True)


def bill_recovery_gap(run_dir: Path, now: float | None = None, launched_at: float | None = None) -> float:
    """A resumed job (spot recovery, a transient retry): the time since the cost ledger was last saved
    (the preemption, a new VM, its setup) was billed but counted by nobody. Added to the ledger before
    the worker's cost guard reads it; returns the seconds added. A job `mlws resume` launched counts
    from its own launch (`launched_at`), not the save: the time the run lay failed or stopped cost nothing."""
    from ...fileio import write_atomic

    ledger = run_dir / "spend.json"
    try:
        data = json.loads(ledger.read_text())
        gap = max(0.0, (now or time.time()) - max(ledger.stat().st_mtime, launched_at or 0.0))
        data["billed_seconds"] = round(float(data["billed_seconds"]) + gap, 1)
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
    data["recovery_gaps_s"] = [*data.get("recovery_gaps_s", []), round(gap, 1)]
    write_atomic(ledger, json.dumps(data))
    return gap


def _count_transient(run_dir: Path) -> int:
    path = run_dir / "transient_failures.json"
    try:
        count = int(json.loads(path.read_text())["count"]) + 1
    except (OSError, ValueError, KeyError, TypeError):
        count = 1
    try:
        path.write_text(json.dumps({"count": count}))
    except OSError:
        pass
    return count


def limit_seconds(spec_path: str) -> float | None:
    try:
        compute = json.loads(Path(spec_path).read_text())["config"]["compute"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    minutes = compute.get("max_runtime_minutes")
    return float(minutes) * 60 + float(os.environ.get(GRACE_ENV) or GRACE_S) if minutes else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m mlws.compute.sky.node_run SPEC", file=sys.stderr)
        return 2
    spec_path = argv[0]
    limit = limit_seconds(spec_path)
    run_dir = Path(node_env.run_dir(".")).resolve()
    if _rank_zero():
        billing = node_env.billing()
        bill_recovery_gap(run_dir, launched_at=billing[1] if billing else None)
    fd, mark = tempfile.mkstemp(prefix="mlws-transient-")
    os.close(fd)
    os.unlink(mark)
    child = subprocess.Popen([sys.executable, "-m", "mlws.worker", spec_path], env={**os.environ, MARK_ENV: mark})
    forward = lambda signum, frame: child.send_signal(signum)  # noqa: E731  (SkyPilot's cancel reaches the worker)
    previous = signal.signal(signal.SIGTERM, forward)
    hard_stopped = False
    try:
        started = time.monotonic()
        while child.poll() is None:
            if limit is not None and time.monotonic() - started > limit:
                hard_stopped = True
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=KILL_AFTER_S)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                break
            try:
                child.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    rc = child.returncode
    if hard_stopped:
        minutes = (limit or 0) / 60
        if _rank_zero():
            _record_stopped(
                run_dir,
                f"hard time limit of {minutes:.1f} min reached (max_runtime_minutes plus "
                f"grace): the worker did not stop at a batch end, so it was killed",
            )
        print(f"mlws: hard time limit of {minutes:.1f} min reached: worker stopped", file=sys.stderr, flush=True)
        return 0  # a decided outcome: nothing for SkyPilot to retry
    if rc != 0 and Path(mark).exists():
        why = Path(mark).read_text()
        Path(mark).unlink()
        if _count_transient(run_dir) <= MAX_TRANSIENT:
            print(
                f"mlws: transient failure ({why.splitlines()[0] if why else 'collective error'}): exit "
                f"{TRANSIENT_EXIT}, for SkyPilot to relaunch the job",
                file=sys.stderr,
                flush=True,
            )
            return TRANSIENT_EXIT
        print(f"mlws: transient failure again ({MAX_TRANSIENT} times already): not retried", file=sys.stderr)
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
