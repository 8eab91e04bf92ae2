"""The one worker entry point every backend runs: `python -m mlws.worker RUN_DIR/spec.json`.

The run's compute backend may wrap training (`Backend.run_fit`: DDP across nodes, Ray Train).

It trains the frozen RunSpec and records the outcome in the registry: succeeded, failed
(with the error; the traceback goes to RUN_DIR/error.log) or stopped (Ctrl-C or SIGTERM).
"""
from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path

from .errors import MlwsError, RunFailed
from .registry import open_registry
from .spec import RunSpec
from .workspace import Workspace


SPEC_FROM_ENV = "--spec-from-env"  # a backend that uploads no run directory passes the spec in the environment


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


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
    """On a cloud node (MLWS_REMOTE=1): the run directory and workspace are the node's."""
    from dataclasses import replace
    run_dir = os.path.abspath(os.environ.get("MLWS_RUN_DIR", spec.run_dir))
    Path(run_dir, "checkpoints").mkdir(parents=True, exist_ok=True)
    return replace(spec, run_dir=run_dir, workspace=os.getcwd())


def _open_registry(spec: RunSpec):
    if os.environ.get("MLWS_REMOTE") == "1":
        # A team registry on PostgreSQL is reachable from nodes; a workspace's SQLite file only when the
        # backend says the node shares this file system (a Ray head on the same machine).
        url = os.environ.get("MLWS_REGISTRY_URL")
        reachable = url and (not url.startswith("sqlite") or os.environ.get("MLWS_REGISTRY_SHARED") == "1")
        return open_registry(url) if reachable else _NoRegistry(spec.run_dir)
    return open_registry(Workspace(Path(spec.workspace)).registry_url)


def _is_rank_zero() -> bool:
    return os.environ.get("NODE_RANK", "0") == "0" and os.environ.get("LOCAL_RANK", "0") == "0"


def run(spec_path: str | os.PathLike) -> dict:
    """Train the run; return its final registry record. Raises RunFailed if training raised."""
    spec = RunSpec.read(spec_path) if str(spec_path) != SPEC_FROM_ENV else RunSpec.from_json(os.environ["MLWS_SPEC_JSON"])
    if os.environ.get("MLWS_REMOTE") == "1":
        spec = _remote_spec(spec)
    # A workspace's own packages (models, data, a compute backend) import as for a script in its root.
    if spec.workspace not in sys.path:
        sys.path.insert(0, spec.workspace)
    from .compute import backend_class
    backend = backend_class(spec.config.get("compute") or {})
    backend.setup_node()  # a multi-node backend sets the rank variables first
    registry = _open_registry(spec) if _is_rank_zero() else _NoRegistry(None)
    registry.set_owner(spec.run_id, os.getpid())
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        from .training.builder import fit
        result = backend.run_fit(spec, fit)
    except (KeyboardInterrupt, SystemExit):
        # Lightning turns Ctrl-C into a graceful shutdown and then SystemExit.
        registry.finish(spec.run_id, "stopped", artifacts=_artifacts_on_disk(spec),
                        stop_reason="stopped by user (mlws stop, SIGTERM or Ctrl-C)")
        return registry.get(spec.run_id)
    except BaseException as e:
        (Path(spec.run_dir) / "error.log").write_text(traceback.format_exc())
        message = str(e) if isinstance(e, MlwsError) else f"{type(e).__name__}: {e}"
        registry.finish(spec.run_id, "failed", artifacts=_artifacts_on_disk(spec), error=message)
        raise RunFailed(f"run {spec.run_id} failed: {message}\n  traceback: {Path(spec.run_dir) / 'error.log'}") from e
    finally:
        signal.signal(signal.SIGTERM, previous)
    reason = result.stop_reason or ("stopped by user (mlws stop, SIGTERM or Ctrl-C)" if result.interrupted else None)
    registry.finish(spec.run_id, "stopped" if reason else "succeeded", metrics=result.metrics,
                    artifacts=result.artifacts, stop_reason=reason)
    return registry.get(spec.run_id)


def _artifacts_on_disk(spec: RunSpec) -> dict:
    ckpts = Path(spec.run_dir) / "checkpoints"
    found = {p.stem: str(p) for p in sorted(ckpts.glob("*.ckpt"))} if ckpts.is_dir() else {}
    return {"run_dir": spec.run_dir, "checkpoints": found}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(f"usage: python -m mlws.worker RUN_DIR/spec.json (or {SPEC_FROM_ENV}: the spec in $MLWS_SPEC_JSON)",
              file=sys.stderr)
        return 2
    try:
        run(argv[0])
    except MlwsError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
