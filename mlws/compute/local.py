"""This machine: the worker in this process, or in a background process with --detach."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..errors import MlwsError
from .base import Backend, Submission, follow_file, wait_until


class LocalBackend(Backend):
    name = "local"

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
        """JupyterLab on this machine (mlws/jupyter/local.py)."""
        from ..jupyter import local

        if expose:
            raise MlwsError("--expose opens a cloud notebook's port; here, bind with --host instead")
        if dry_run:
            raise MlwsError("--dry-run shows a cloud notebook's task; here, nothing would be launched")
        return local.start(workspace, name=name, host=host, port=port, idle_minutes=idle_minutes, token=token)

    def notebook_down(self, state: dict, *, workspace) -> None:
        from ..jupyter import local

        local.stop(workspace, state["name"])

    def serve(
        self,
        record: dict,
        args: dict,
        *,
        workspace,
        dry_run: bool = False,
        detach: bool = True,
        verbose: bool = False,
        ready=None,
        progress=print,
    ) -> dict:
        """Ray Serve on this machine: in the foreground until Ctrl-C or SIGTERM, or in the background
        (mlws/serving/detached.py)."""
        from ..extras import require

        require("serve", "mlws serve")  # Ray Serve runs here (also when the backend is called directly)
        from ..serving import detached
        from ..serving.server import port_free, serve_forever

        if dry_run:
            raise MlwsError("--dry-run shows a cloud server's task; here, nothing would be launched")
        if not port_free(args["host"], args["port"]):
            raise MlwsError(f"port {args['port']} on {args['host']} is in use; choose another with --port")
        if detach:
            return detached.start(args, workspace.root, verbose=verbose, progress=progress)
        from ..registry.liveness import process_started

        here = {"pid": os.getpid(), "process_started": process_started(os.getpid())}
        on_ready = (
            (lambda url: ready({**here, "url": url, "where": f"this machine, pid {os.getpid()}"})) if ready else None
        )
        return {"signal": int(serve_forever(args, ready=on_ready or (lambda url: None), progress=progress))}

    def serve_alive(self, state: dict, *, workspace) -> bool:
        from ..serving import detached

        if detached.alive(state, workspace.root):
            return True
        detached.reap(state, workspace.root)  # gone: what it left behind goes too, before it is forgotten
        return False

    def serve_down(self, state: dict, *, workspace) -> None:
        from ..serving import detached

        detached.stop(state, workspace.root)

    def submit(self, spec_path: Path, *, detach: bool, prepared: dict | None = None) -> Submission:
        if not detach:
            from .. import worker

            worker.run(spec_path)  # records its own outcome; raises RunFailed when training raised
            return Submission(remote=False)
        log = Path(spec_path).parent / "output.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mlws.worker", str(spec_path)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # survives the terminal closing
        return Submission(
            pid=proc.pid, remote=False, message=f"started in the background (pid {proc.pid}); output: {log}"
        )

    def cancel(self, record: dict, *, timeout: float = 120.0) -> None:
        """SIGTERM: Lightning shuts down gracefully, the worker saves last.ckpt and records 'stopped'."""
        from ..registry.liveness import process_alive

        if record["host"] != socket.gethostname():
            raise MlwsError(f"run {record['id']} runs on host {record['host']!r}, not this one")
        pid, started = record["pid"], record["pid_started"]
        if not process_alive(pid, started):
            return None  # the registry's reaper records it as failed
        os.kill(pid, signal.SIGTERM)
        if not wait_until(lambda: not process_alive(pid, started), timeout):
            raise MlwsError(
                f"run {record['id']} did not stop within {timeout:.0f} s (pid {pid}); kill it with: kill -9 {pid}"
            )
        return None

    def cost(self, record: dict) -> dict:
        """Wall time × cost.local_hourly (0: time only); mlws/spend/reckon.py."""
        from ..spend.reckon import local

        return local(record)

    def logs(self, record: dict, *, follow: bool = False, out=None) -> int:
        from ..registry.liveness import process_alive

        path = Path(record["run_dir"]) / "output.log"
        if not path.exists():
            raise MlwsError(f"run {record['id']} has no output log ({path}); foreground runs print to their terminal")
        return follow_file(path, lambda: process_alive(record["pid"], record["pid_started"]), follow=follow, out=out)
