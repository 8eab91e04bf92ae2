"""The one worker entry point every backend runs: `python -m mlws.worker RUN_DIR/spec.json`.

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


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def run(spec_path: str | os.PathLike) -> dict:
    """Train the run; return its final registry record. Raises RunFailed if training raised."""
    spec = RunSpec.read(spec_path)
    ws = Workspace(Path(spec.workspace))
    registry = open_registry(ws.registry_url)
    registry.set_owner(spec.run_id, os.getpid())
    # A workspace's own packages import as they would for a script in its root.
    if spec.workspace not in sys.path:
        sys.path.insert(0, spec.workspace)
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        from .training.builder import fit
        result = fit(spec)
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
        print("usage: python -m mlws.worker RUN_DIR/spec.json", file=sys.stderr)
        return 2
    try:
        run(argv[0])
    except MlwsError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
