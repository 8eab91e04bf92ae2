"""A Ray head on this machine, started on demand with `ray start --head --block` on free ports.

`--block` keeps Ray's own CLI in the foreground and makes it end every process it started when it is
terminated, so stopping one head (its process group) never touches another Ray on the machine.
Its address and pid are kept in a small state file, so the next run reuses the head.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ...errors import MlwsError

PORT_FLAGS = (
    "--port",
    "--dashboard-port",
    "--ray-client-server-port",
    "--node-manager-port",
    "--object-manager-port",
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--metrics-export-port",
    "--runtime-env-agent-port",
)


def free_ports(n: int) -> list[int]:
    """n distinct free ports on 127.0.0.1 (held open together so none repeats)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def healthy(address: str, timeout: float = 2.0) -> bool:
    """Does a Ray dashboard answer at this address? (/api/gcs_healthz needs no token, when a cluster
    uses Ray's token authentication)"""
    try:
        with urllib.request.urlopen(f"{address.rstrip('/')}/api/gcs_healthz", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def use_token_if_any() -> None:
    """Ray turns token authentication on for a head started where ~/.ray/auth_token exists (any
    earlier `ray.init()` writes one): the client side must then send that token too."""
    try:
        from ray._private.authentication.authentication_token_setup import maybe_enable_token_auth_if_token_available
    except ImportError:  # a Ray without token authentication
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def start_head(
    state_file: Path, *, num_cpus: int | None = None, timeout: float = 180.0, env: dict | None = None
) -> dict:
    """Start a head; return {address, pid, temp_dir, log} once its Jobs API answers."""
    ray_cli = Path(sys.executable).with_name("ray")
    ports = free_ports(len(PORT_FLAGS))
    # Ray's sockets live under the temp dir, and a Unix socket path has ~107 bytes: keep it short.
    tag = hashlib.sha1(str(state_file.resolve()).encode()).hexdigest()[:8]
    temp_dir = Path(tempfile.gettempdir()) / f"mlws-ray-{tag}-{ports[0]}"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    log = state_file.with_suffix(".log")
    cmd = [
        str(ray_cli) if ray_cli.exists() else "ray",
        "start",
        "--head",
        "--block",
        "--disable-usage-stats",
        "--include-dashboard=true",
        "--dashboard-host=127.0.0.1",
        f"--temp-dir={temp_dir}",
        f"--num-cpus={num_cpus or os.cpu_count() or 1}",
        *(f"{flag}={port}" for flag, port in zip(PORT_FLAGS, ports)),
    ]
    # No draining on SIGTERM: it waits for Serve proxies that a training head does not run.
    env = {**(os.environ if env is None else env), "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    address = f"http://127.0.0.1:{ports[1]}"
    deadline = time.monotonic() + timeout
    while not healthy(address):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_head({"pid": proc.pid, "temp_dir": str(temp_dir)})
            raise MlwsError(f"could not start a local Ray head (see {log})")
        time.sleep(0.5)
    state = {"address": address, "pid": proc.pid, "temp_dir": str(temp_dir), "log": str(log)}
    state_file.write_text(json.dumps(state))
    return state


def is_our_head(state: dict) -> bool:
    """Is state["pid"] still the `ray start` we launched? (A state file can outlive a reboot, and
    its pid can by then belong to anything.)"""
    try:
        cmdline = Path(f"/proc/{state['pid']}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, KeyError, TypeError):
        return False
    return "start" in cmdline and "--head" in cmdline and f"--temp-dir={state.get('temp_dir')}" in cmdline


def stop_head(state: dict, timeout: float = 60.0) -> None:
    """SIGTERM to `ray start --block`, which shuts down what it started (GCS still up, so quickly),
    then SIGKILL to whatever of its process group is left. Only a pid that is still our head."""
    pid = state.get("pid")
    if not pid or not is_our_head(state):
        _alive(pid) if pid else None  # reap a child that already ended
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _alive(pid)  # reap it if it was our child


def _alive(pid: int) -> bool:
    try:  # our own child: reap it, or a zombie would look alive forever
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def local_head(state_dir: Path) -> str:
    """The address of this workspace's local head, started if none answers."""
    state_file = state_dir / "ray-head.json"
    if state_file.exists():
        try:
            state = json.loads(state_file.read_text())
        except ValueError:
            state = {}
        if state.get("address") and healthy(state["address"]):
            return state["address"]
        stop_head(state)  # a head that no longer answers: end what is left of it
    return start_head(state_file)["address"]


def stop_local_head(state_dir: Path) -> bool:
    state_file = state_dir / "ray-head.json"
    if not state_file.exists():
        return False
    stop_head(json.loads(state_file.read_text()))
    state_file.unlink()
    return True
