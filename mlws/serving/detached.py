"""A model server on this machine in the background (LocalBackend.serve with --detach): its own
session, logging to .mlws/serve/run-N.log, told apart from a later process of the same pid by its
start time; stopped with its whole process group (Ray's agents can outlive their raylet)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import MlwsError
from .server import PROGRESS, READY, state_dir, write_private


def start(args: dict, workspace_root: Path, *, verbose: bool, progress, timeout: float = 180.0) -> dict:
    """Start the server and return once /health answers: {url, where, pid, process_started, log}.
    Its progress lines are shown as they come (every line of the log if verbose)."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    from ..registry.liveness import process_started

    run_id = int(args["run_id"])
    folder = state_dir(workspace_root)
    folder.mkdir(parents=True, exist_ok=True)
    args_file = folder / f"run-{run_id}.args.json"
    write_private(args_file, json.dumps({**args, "token": None}))  # the token goes by the environment
    env = {k: v for k, v in os.environ.items() if k != "MLWS_SERVE_TOKEN"}
    if args.get("token"):
        env["MLWS_SERVE_TOKEN"] = args["token"]
    log = folder / f"run-{run_id}.log"
    try:  # never through a symlink planted in its place
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        args_file.unlink(missing_ok=True)
        raise MlwsError(f"cannot open the server's log {log}: {e.strerror} (a symlink? remove it)") from None
    with os.fdopen(fd, "ab") as out:
        seen = out.tell()
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlws.serving.server", str(args_file), "--detached"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    url, deadline, last, deployed = url_of(args), time.monotonic() + timeout, [""], [False]

    def show_new_lines() -> None:
        nonlocal seen
        with log.open("rb") as f:
            f.seek(seen)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        seen += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            last[0] = line.strip() or last[0]
            if line.startswith(PROGRESS):
                progress(line[len(PROGRESS) :])
                deployed[0] = deployed[0] or line[len(PROGRESS) :].strip() == READY
            elif verbose:
                progress(line)

    try:
        while time.monotonic() < deadline:
            show_new_lines()
            if proc.poll() is not None:
                show_new_lines()
                raise MlwsError(
                    f"the server for run {run_id} exited (code {proc.returncode}): {last[0][:300]} (see {log})"
                )
            try:  # its last progress line, and the app answering through the proxy
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200 and deployed[0]:
                        return {
                            "url": url,
                            "where": f"this machine, pid {proc.pid}",
                            "pid": proc.pid,
                            "process_started": process_started(proc.pid),
                            "log": str(log),
                            "detached": True,
                        }
            except OSError:
                pass
            time.sleep(0.5)
        raise MlwsError(f"the server for run {run_id} was not healthy after {timeout:.0f} s; see {log}")
    except BaseException:  # no half-started server left behind, nor its args file
        if proc.poll() is None:
            proc.terminate()
        args_file.unlink(missing_ok=True)
        raise


def alive(state: dict, workspace_root: Path | None = None) -> bool:
    """Still the server mlws started: pid, start time, and its command line (the detached server
    names its args file; a foreground one is an mlws process). A state without them is not one."""
    from .state_files import started_process

    if state.get("detached"):
        args_file = f"run-{state.get('run_id')}.args.json"
        if workspace_root is not None:
            args_file = str(state_dir(workspace_root) / args_file)
        marks = ["mlws.serving.server", args_file]
    else:
        marks = ["mlws"]
    return started_process(state.get("pid"), state.get("process_started"), marks)


def reap(state: dict, workspace_root: Path) -> None:
    """A server found dead (killed with SIGKILL, say) can leave Ray's agents running in its process
    group: end them, and its args file. Only when its pid is free again (so the group can only be
    the server's own: Linux gives no new process a pid still in use as a group id), and only
    processes of this user started after the server."""
    import signal

    import psutil

    from .state_files import valid_pid, valid_time

    pid, started = state.get("pid"), state.get("process_started")
    if valid_pid(pid) and valid_time(started) and not psutil.pid_exists(pid):
        for proc in psutil.process_iter(["uids", "create_time"]):
            try:
                if (
                    os.getpgid(proc.pid) == pid
                    and proc.info["uids"].real == os.getuid()
                    and proc.info["create_time"] >= started - 1.0
                ):
                    proc.send_signal(signal.SIGTERM)
            except (psutil.Error, OSError):
                continue
    (state_dir(workspace_root) / f"run-{int(state['run_id'])}.args.json").unlink(missing_ok=True)


def stop(state: dict, workspace_root: Path, *, timeout: float = 60.0) -> None:
    """SIGTERM to the server (which `alive` checked is still it: pid and start time), then to its
    session; returns once its port is free again."""
    import signal
    import time

    run_id, pid = int(state["run_id"]), state["pid"]
    deadline = time.monotonic() + timeout
    if alive(state, workspace_root):
        os.kill(pid, signal.SIGTERM)
        while time.monotonic() < deadline and alive(state, workspace_root):
            time.sleep(0.2)
        if alive(state, workspace_root):
            raise MlwsError(f"the server for run {run_id} (pid {pid}) did not stop in {timeout:.0f} s")
        try:  # Ray's agent processes can outlive their raylet: end the server's whole session
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    (state_dir(workspace_root) / f"run-{run_id}.args.json").unlink(missing_ok=True)
    _wait_port_free(str(state.get("url") or ""), deadline)


def url_of(args: dict) -> str:
    host = args["host"]
    return f"http://[{host}]:{args['port']}" if ":" in host else f"http://{host}:{args['port']}"


def _wait_port_free(url: str, deadline: float) -> None:
    """Ray's HTTP proxy lets go of the port a moment after the server process ends."""
    import time
    from urllib.parse import urlparse

    from .server import port_free

    u = urlparse(url)
    while time.monotonic() < deadline and u.hostname and u.port and not port_free(u.hostname, u.port):
        time.sleep(0.2)
