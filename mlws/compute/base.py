"""The contract every compute backend implements (like Hydra's Launcher: a small ABC).

A backend owns a run's whole lifecycle where it runs: checks before anything is recorded
(`prepare`), starting the one worker entry point (`submit`), and later status, cancel, logs, cost
and where the run's files live. It is chosen by `_target_` in conf/compute/NAME.yaml and built
with that node as its config, so a user's own backend is one class and one YAML file. Nothing
outside mlws/compute/ branches on a backend's name.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MlwsError


@dataclass(frozen=True)
class Submission:
    """What `submit` returns, for every backend."""

    handle: dict = field(default_factory=dict)  # the backend's ids for this run (job id, cluster, address)
    pid: int | None = None  # a process on this host that now owns the run (a detached local worker)
    remote: bool = True  # False: the worker runs on this host and records its own outcome
    message: str = ""  # one line for the user after a detached submit
    run_dir: str | None = None  # where the run's files are written, when not the workspace's runs/N
    artifacts: dict = field(default_factory=dict)  # extra facts kept with the run (a price estimate)


@dataclass(frozen=True)
class Status:
    """A run's outcome (or 'running') as the backend sees it."""

    status: str  # running | succeeded | failed | stopped
    metrics: dict | None = None
    artifacts: dict | None = None
    error: str | None = None
    stop_reason: str | None = None

    @property
    def final(self) -> bool:
        return self.status != "running"


class Backend(ABC):
    """Subclass, set `name` (recorded with each run), implement `submit`; override what applies."""

    name: str = "custom"
    extra: str | None = None  # the mlws extra its library comes with (mlws/extras.py), checked first

    def __init__(self, config: dict | None = None):
        self.config = dict(config or {})

    # -- before anything is recorded ------------------------------------------------------------
    def prepare(self, spec) -> dict:
        """Validate, price, reach the cluster; raise MlwsError to refuse. The dict reaches submit."""
        return {}

    def plan(self, spec, spec_path: str | None = None) -> dict:
        """What `mlws plan` shows: {task, estimate} for a backend that compiles one; no side effects.
        `spec_path`: where the frozen spec was written for the task to use (`mlws plan -o DIR`)."""
        return {}

    @abstractmethod
    def submit(self, spec_path: Path, *, detach: bool, prepared: dict | None = None) -> Submission:
        """Start `python -m mlws.worker SPEC` where this backend runs things. A remote backend returns
        as soon as the run is submitted (its handle is recorded, then `follow` prints its output);
        the local one trains in this process unless `detach`."""

    def follow(self, handle: dict, *, out=None) -> None:
        """Print a submitted run's output until it ends (a foreground `mlws train`)."""

    # -- after: the registry asks -----------------------------------------------------------------
    def status(self, record: dict) -> Status | None:
        """The run's state from the backend (bounded in time); None: the registry already knows."""
        return None

    def cancel(self, record: dict, *, timeout: float = 120.0) -> Status | None:
        """Stop the run. Returns its final status, or None when the worker records it itself."""
        raise MlwsError(f"compute backend {self.name!r} cannot stop runs")

    def logs(self, record: dict, *, follow: bool = False, out=None) -> int:
        raise MlwsError(f"compute backend {self.name!r} keeps no logs for run {record['id']}")

    def cost(self, record: dict) -> dict | None:
        """{hourly_price, spend, ...} where the backend knows a price; None otherwise."""
        return None

    def artifact_root(self, record: dict) -> str:
        """Where the run's files are (a local path or a URL): what `mlws cp RUN:PATH` reads."""
        return record["run_dir"]

    def copy(self, record: dict, path: str, dest) -> dict:
        """Copy RUN:PATH to dest. The default reads a local (or shared) artifact root."""
        from ..history.copy import copy_local

        return copy_local(Path(self.artifact_root(record)), path, Path(dest))

    def resumable(self, record: dict) -> Path | str:
        """`mlws resume`: the run directory a killed or stopped run carries on in (its last.ckpt is
        under checkpoints/; a URL where the backend keeps it elsewhere, a bucket), or MlwsError saying
        why it cannot carry on from here. The default is a run that was a process of this machine (the
        local backend's); a backend with jobs elsewhere overrides this, `last_checkpoint` and `resume`."""
        import socket

        run_id = record["id"]
        if (record.get("artifacts") or {}).get("compute") or not record.get("pid"):  # a remote backend's job
            raise MlwsError(
                f"run {run_id} ran on {record.get('backend')!r}, which cannot carry runs on with mlws resume"
            )
        if record.get("host") and record["host"] != socket.gethostname():
            raise MlwsError(f"run {run_id} ran on host {record['host']!r}: resume it there")
        return Path(record.get("run_dir") or "")

    def last_checkpoint(self, record: dict, run_dir: Path | str) -> Path | str | None:
        """The last.ckpt in the run directory `resumable` gave (a path here; a URL for a backend that
        keeps run directories elsewhere, checked there), or None: it has none."""
        last = Path(run_dir) / "checkpoints" / "last.ckpt"
        return last if last.is_file() else None

    def resume(self, record: dict, spec_path: Path, *, detach: bool, prepared: dict | None = None) -> Submission:
        """Start the worker again for a run `resumable` accepted: it finds last.ckpt in the run
        directory and carries on from it, as the same run. The default submits the spec again."""
        return self.submit(spec_path, detach=detach, prepared=prepared)

    def down(self, workspace) -> str | None:
        """Stop what this backend started on this machine for the workspace (`mlws down compute=NAME`)."""
        return None

    # -- serving a run's model (mlws/ops/serving.py keeps each server's state, `compute` included) --
    serve_host: str | None = None  # where its servers listen without --host (None: serve.host, loopback);
    #                               a public one (a VM's 0.0.0.0) gets a generated token unless one is set

    def serve(
        self,
        record: dict,
        args: dict,
        *,
        workspace,
        dry_run: bool = False,
        detach: bool = True,
        verbose: bool = False,
        ready: Callable[[dict], None] | None = None,
        progress: Callable[[str], None] = print,
    ) -> dict:
        """Serve a run's model where this backend runs things; `args` are the app's (serving/app.py)
        with `checkpoint`, the weights' local path. Returns the server's state (url, where, and the
        backend's own handle: a pid, a cluster), which `serve list` shows and `serve_down` gets
        back; a dry run returns {task, estimate, lines}. A server in the foreground (detach=False,
        where a backend can) calls `ready(state)` once it answers and returns {"signal": N} when stopped."""
        raise MlwsError(
            f"compute backend {self.name!r} cannot serve models; serve on this machine "
            "(mlws serve RUN compute=local) or choose a backend that can"
        )

    def serve_alive(self, state: dict, *, workspace) -> bool:
        """Whether a server this backend started (its state) is still there; True: as recorded."""
        return True

    def serve_down(self, state: dict, *, workspace) -> None:
        """Stop a server this backend started (its recorded state)."""
        raise MlwsError(f"compute backend {self.name!r} has no servers to stop")

    def notebook(
        self,
        *,
        workspace,
        name: str,
        host: str,
        port: int,
        idle_minutes: float,
        token: str,
        expose: bool,
        dry_run: bool = False,
    ) -> dict:
        """Run JupyterLab where this backend runs things. Returns the notebook's state (kept in
        .mlws/notebooks/NAME/state.json); a "pid" means a server process on this machine."""
        raise MlwsError(
            f"compute backend {self.name!r} cannot host notebooks; run `mlws notebook` here "
            "or choose a backend that can (compute=sky)"
        )

    def notebook_down(self, state: dict, *, workspace) -> None:
        """Stop a notebook this backend started (its recorded state)."""
        raise MlwsError(f"compute backend {self.name!r} has no notebooks to stop")

    def notebook_status(self, state: dict, *, workspace) -> dict | None:
        """Whether the notebook is in use and why ({active, reasons, gone}); None: as recorded here."""
        return None

    # -- on the node: inside `python -m mlws.worker` ---------------------------------------------
    @classmethod
    def setup_node(cls) -> None:
        """First thing the worker does (before choosing the rank that records): set process env."""

    @classmethod
    def run_fit(cls, spec, fit: Callable):
        """Train: `fit(spec, **kwargs)` → FitResult. Multi-process backends wrap it (DDP, Ray Train)."""
        return fit(spec)


def follow_file(path: Path, still_running: Callable[[], bool], *, follow: bool, out=None, poll_s: float = 0.5) -> int:
    """Print a log file; with `follow`, keep printing until `still_running()` turns false."""
    import time

    out = out or sys.stdout
    with path.open(errors="replace") as f:
        while True:
            chunk = f.read()
            if chunk:
                out.write(chunk)
                out.flush()
            elif not follow or not still_running():
                out.write(f.read())
                out.flush()
                return 0
            else:
                time.sleep(poll_s)


def wait_until(predicate: Callable[[], bool], timeout: float, poll_s: float = 0.2) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return predicate()
