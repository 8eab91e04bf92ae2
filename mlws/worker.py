"""The one worker entry point every backend runs: `python -m mlws.worker RUN_DIR/spec.json`.

The run's compute backend may wrap training (`Backend.run_fit`: DDP across nodes, Ray Train).

It trains the frozen RunSpec and records the outcome in the registry: succeeded, failed
(with the error; the traceback goes to RUN_DIR/error.log) or stopped (Ctrl-C or SIGTERM): a stopped
run keeps its metrics and best checkpoint as a finished one does. `mlws train` in the foreground
then exits 128 + the signal (`exit_code`).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from . import node_env
from .errors import MlwsError, RunFailed
from .registry import open_registry
from .spec import RunSpec
from .workspace import Workspace

LOCAL_BACKEND = "mlws.compute.local.LocalBackend"  # a spec recorded before backends were chosen by _target_
SPEC_FROM_ENV = "--spec-from-env"  # a backend that uploads no run directory passes the spec in the environment


_stopped_by: list[int] = []  # the signal that stopped the latest run of this process, if one did


def _stop(signum, frame):
    """Ctrl-C (SIGINT) or SIGTERM (mlws stop, kill): Lightning shuts down gracefully on KeyboardInterrupt."""
    if not _stopped_by:
        _stopped_by.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def stopping_on_signals():
    """While inside, SIGINT and SIGTERM raise KeyboardInterrupt (a graceful stop) and `stop_signal()`
    says which came first: the CLI wraps a foreground run in it, the worker wraps training."""
    _stopped_by.clear()
    previous = _install(_stop)
    try:
        yield
    finally:
        _install(previous)  # Lightning leaves SIGINT ignored after an interrupt


def stop_signal() -> int | None:
    """The signal number that stopped the latest run of this process (None: it was not stopped so)."""
    return _stopped_by[0] if _stopped_by else None


def exit_code(record: dict) -> int:
    """A shell's code for the run's outcome: 0, 1 (failed), or 128 + the signal that stopped it
    (130 Ctrl-C, 143 SIGTERM); a run a guard stopped (time limit, early stopping) ended as asked: 0."""
    if record.get("status") == "stopped" and stop_signal() is not None:
        return 128 + stop_signal()
    return 0 if record.get("status") in ("succeeded", "running", "stopped") else 1


def _stop_reason() -> str:
    sig = stop_signal()
    how = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM: mlws stop or kill"}.get(
        sig, "mlws stop, SIGTERM or Ctrl-C"
    )
    return f"stopped by user ({how})"


RESULT_MARKER = "MLWS_RESULT "


class _NoRegistry:
    """On a cloud node with the workspace's SQLite registry out of reach: results go to result.json."""

    def __init__(self, run_dir: str | None):
        self.path = Path(run_dir) / "result.json" if run_dir else None  # None: other ranks record nothing
        self.result: dict = {}

    def set_owner(self, run_id, pid):
        pass

    def finish(self, run_id, status, **fields):
        import json

        from .fileio import write_atomic

        self.result = {"id": run_id, "status": status, **fields}
        if self.path:
            write_atomic(self.path, json.dumps(self.result, indent=2, default=str))
            # the job's log carries the outcome too, for a run whose directory is not kept in a bucket
            outcome = {k: self.result.get(k) for k in ("status", "metrics", "stop_reason", "error")}
            print(f"{RESULT_MARKER}{json.dumps(outcome, default=str)}", flush=True)

    def get(self, run_id):
        return self.result


def _remote_spec(spec: RunSpec) -> RunSpec:
    """On a cloud node (node_env.is_remote()): the run directory and workspace are the node's."""
    from dataclasses import replace

    run_dir = os.path.abspath(node_env.run_dir(spec.run_dir))
    Path(run_dir, "checkpoints").mkdir(parents=True, exist_ok=True)
    return replace(spec, run_dir=run_dir, workspace=os.getcwd())


def _open_registry(spec: RunSpec):
    if node_env.is_remote():
        # A team registry on PostgreSQL is reachable from nodes; a workspace's SQLite file only when the
        # backend says the node shares this file system (a Ray head on the same machine).
        url = node_env.shared_registry_url()
        return open_registry(url) if url else _NoRegistry(spec.run_dir)
    return open_registry(Workspace(Path(spec.workspace)).registry_url)


def run(spec_path: str | os.PathLike) -> dict:
    """Train the run; return its final registry record. Raises RunFailed if training raised."""
    spec = RunSpec.read(spec_path) if str(spec_path) != SPEC_FROM_ENV else RunSpec.from_json(node_env.spec_json())
    if node_env.is_remote():
        spec = _remote_spec(spec)
    # A workspace's own packages (models, data, a compute backend) import as for a script in its root.
    if spec.workspace not in sys.path:
        sys.path.insert(0, spec.workspace)
    from .training.exact import use_run_code

    use_run_code()  # rerun --exact: the run's own commit, checked out in a git worktree, before the workspace
    # the backend is a plugin the run's config names: loaded by its _target_, as Hydra would
    from .targets import load_class

    backend = load_class((spec.config.get("compute") or {}).get("_target_") or LOCAL_BACKEND, "compute._target_")
    backend.setup_node()  # a multi-node backend sets the rank variables first
    registry = _open_registry(spec) if node_env.is_rank_zero() else _NoRegistry(None)
    registry.set_owner(spec.run_id, os.getpid())
    try:
        if node_env.is_rank_zero():  # the data this run sees, recorded before training (a killed run has it too)
            from .training.fingerprint import record_at_start

            record_at_start(registry, spec)
        from .training.builder import fit

        with stopping_on_signals():
            result = backend.run_fit(spec, fit)
    except (KeyboardInterrupt, SystemExit):
        # Stopped outside Lightning's fit (while building, or after): what the run directory holds.
        registry.finish(
            spec.run_id,
            "stopped",
            metrics=_metrics_on_disk(spec),
            artifacts=_artifacts_on_disk(spec),
            stop_reason=_stop_reason(),
        )
        return registry.get(spec.run_id)
    except BaseException as e:
        (Path(spec.run_dir) / "error.log").write_text(traceback.format_exc())
        message = str(e) if isinstance(e, MlwsError) else f"{type(e).__name__}: {e}"
        registry.finish(spec.run_id, "failed", artifacts=_artifacts_on_disk(spec), error=message)
        raise RunFailed(f"run {spec.run_id} failed: {message}\n  traceback: {Path(spec.run_dir) / 'error.log'}") from e
    reason = result.stop_reason or (_stop_reason() if result.interrupted else None)
    registry.finish(
        spec.run_id,
        "stopped" if reason else "succeeded",
        metrics=result.metrics,
        artifacts=result.artifacts,
        stop_reason=reason,
    )
    return registry.get(spec.run_id)


def _install(handlers) -> dict:
    """Set the SIGINT and SIGTERM handlers (one for both, or {signal: handler}); returns the previous."""
    import threading

    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        return {}
    wanted = handlers if isinstance(handlers, dict) else {signal.SIGINT: handlers, signal.SIGTERM: handlers}
    return {sig: signal.signal(sig, handler) for sig, handler in wanted.items() if handler is not None}


def _metrics_on_disk(spec: RunSpec) -> dict:
    """The last validation's metrics from metrics.jsonl (the recorder writes one line per validation)."""
    import json

    path = Path(spec.run_dir) / "metrics.jsonl"
    lines = path.read_text().splitlines() if path.is_file() else []
    try:
        last = json.loads(lines[-1]) if lines else {}
    except ValueError:  # a line cut short by the stop
        last = json.loads(lines[-2]) if len(lines) > 1 else {}
    return {k: v for k, v in last.items() if k not in ("time", "epoch", "step")}


def _artifacts_on_disk(spec: RunSpec) -> dict:
    """The checkpoints found, named as a finished run's are: `last`, and `best` when one other file
    is there (ModelCheckpoint's save_top_k=1 keeps only the best); several others keep their names."""
    ckpts = Path(spec.run_dir) / "checkpoints"
    found = {p.stem: str(p) for p in sorted(ckpts.glob("*.ckpt"))} if ckpts.is_dir() else {}
    others = [name for name in found if name != "last"]
    if len(others) == 1:
        found["best"] = found.pop(others[0])
    return {"run_dir": spec.run_dir, "checkpoints": found}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(
            f"usage: python -m mlws.worker RUN_DIR/spec.json (or {SPEC_FROM_ENV}: the spec in $MLWS_SPEC_JSON)",
            file=sys.stderr,
        )
        return 2
    try:
        run(argv[0])
    except MlwsError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    # 0 for a stopped run too: a backend reads a node's exit code (SkyPilot: non-zero is a failure
    # or a retry); the CLI gives the shell 130/143 (exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
