"""A JupyterLab server on this machine, rooted at the workspace, in the workspace's own Python.

Its token (32 random bytes) and settings go in a config file readable only by this user, never on
the command line. State lives in .mlws/notebooks/NAME/: state.json (pid, url), status.json (what
the idle watcher saw), jupyter_config.json, server.log.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ..errors import MlwsError
from ..workspace import Workspace

MIN_TOKEN_CHARS = 32
NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")


def check_name(name: str) -> str:
    """A notebook's name becomes a folder under .mlws/notebooks: nothing that leaves it."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or name in (".", ".."):
        raise MlwsError(f"notebook name {str(name)[:80]!r}: use letters, digits, '_', '.' and '-' only")
    return name


def notebooks_dir(ws: Workspace) -> Path:
    return ws.state_dir / "notebooks"


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 32 random bytes, 43 characters


def jupyter_config(ws: Workspace, host: str, port: int, token: str, idle_s: float) -> dict:
    culling = (
        {
            "cull_idle_timeout": int(idle_s),
            "cull_interval": max(10, min(300, int(idle_s) or 300)),
            "cull_busy": False,
            "cull_connected": True,
        }
        if idle_s
        else {}
    )
    return {
        "ServerApp": {
            "ip": host,
            "port": port,
            "port_retries": 0,
            "root_dir": str(ws.root),
            "open_browser": False,
            "disable_check_xsrf": False,
            "jpserver_extensions": {"mlws.jupyter.idle": True},
            "allow_root": os.geteuid() == 0,
        },  # containers and CI run as root
        "IdentityProvider": {"token": token},
        "MappingKernelManager": culling,  # Jupyter's own culling frees idle kernels
    }


def start(
    ws: Workspace,
    *,
    name: str,
    host: str,
    port: int,
    idle_minutes: float,
    token: str | None = None,
    check_s: float | None = None,
    timeout: float = 120.0,
) -> dict:
    """Start the server in the background and return its state once it answers."""
    from ..serving.server import port_free

    check_name(name)
    token = token or new_token()
    # seconds between the idle watcher's looks (MLWS_NOTEBOOK_CHECK_S: tests look often)
    check_s = check_s or float(os.environ.get("MLWS_NOTEBOOK_CHECK_S", "30"))
    if len(token) < MIN_TOKEN_CHARS:
        raise MlwsError(f"the notebook token must have at least {MIN_TOKEN_CHARS} characters")
    existing = read_state(ws, name)
    if existing and alive(existing, ws):
        raise MlwsError(
            f"a notebook named {name!r} is running at {existing['url']} "
            f"(mlws notebook stop {name}, or choose another --name)"
        )
    if not port_free(host, port):
        raise MlwsError(f"port {port} on {host} is in use; choose another with --port")
    folder = notebooks_dir(ws) / name
    if folder.is_symlink():
        raise MlwsError(f"{folder} is a symlink, not a folder mlws made; remove it")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "jupyter_config.json"
    idle_s = float(idle_minutes) * 60
    _write_private(config, json.dumps(jupyter_config(ws, host, port, token, idle_s), indent=1))
    status = folder / "status.json"
    status.unlink(missing_ok=True)
    env = {
        **os.environ,
        "MLWS_WORKSPACE": str(ws.root),
        "MLWS_NOTEBOOK_IDLE_S": str(idle_s),
        "MLWS_NOTEBOOK_CHECK_S": str(check_s),
        "MLWS_NOTEBOOK_STATUS": str(status),
        "JUPYTER_CONFIG_DIR": str(folder / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
    }
    try:  # never through a symlink planted in its place
        fd = os.open(folder / "server.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        raise MlwsError(f"cannot open {folder / 'server.log'}: {e.strerror} (a symlink? remove it)") from None
    with os.fdopen(fd, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", f"--config={config}"],
            cwd=ws.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{host}:{port}"
    state = {
        "name": name,
        "backend": "local",
        "compute": {"_target_": "mlws.compute.local.LocalBackend"},
        "pid": proc.pid,
        "pid_started": _started(proc.pid),
        "url": url,
        "token": token,
        "host": host,
        "port": port,
        "idle_minutes": idle_minutes,
        "root": str(ws.root),
        "started_at": time.time(),
        "log": str(folder / "server.log"),
    }
    _write_private(folder / "state.json", json.dumps(state, indent=1))  # `stop` works while it starts
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            (folder / "state.json").unlink(missing_ok=True)
            raise MlwsError(
                f"JupyterLab exited (code {proc.returncode}) before it answered; see {folder / 'server.log'}"
            )
        if api(state, "/api/status", timeout=2) is not None:
            return state
        time.sleep(0.3)
    stop(ws, name)
    raise MlwsError(f"JupyterLab did not answer within {timeout:.0f} s; see {folder / 'server.log'}")


def api(state: dict, path: str, timeout: float = 5.0):
    """GET a Jupyter REST path with the token; None when the server does not answer."""
    request = urllib.request.Request(state["url"] + path, headers={"Authorization": f"token {state['token']}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def read_state(ws: Workspace, name: str) -> dict | None:
    """The state mlws wrote for this notebook; None for none, or for a planted or damaged one."""
    from ..serving.state_files import read_private_json, shape_error, warn_once

    if not NAME_RE.fullmatch(name) or name in (".", ".."):
        return None
    path = notebooks_dir(ws) / name / "state.json"
    state = read_private_json(path)
    if state is None:
        return None
    why = shape_error(state, required=("name", "backend"))  # its backend: mlws.compute.trusted, before it is built
    if not why and state["name"] != name:
        why = "its name is not its folder's"
    if why:
        warn_once(path, why)
        return None
    return state


def listing(ws: Workspace) -> list[dict]:
    """Every notebook this workspace started that is still running (stale state is cleaned up)."""
    out = []
    folder = notebooks_dir(ws)
    for path in sorted(folder.glob("*/state.json")) if folder.is_dir() else []:
        state = read_state(ws, path.parent.name)
        if not state:
            continue
        if state.get("pid") and not alive(state, ws):  # a server here that has stopped (idle, or killed)
            path.unlink(missing_ok=True)
            continue
        out.append(state)
    return out


def status(ws: Workspace, name: str) -> dict:
    state = known(ws, name)
    folder = notebooks_dir(ws) / name
    try:
        seen = json.loads((folder / "status.json").read_text())
    except (OSError, ValueError):
        seen = {"active": True, "reasons": ["starting: the idle watcher has not reported yet"]}
    return {**{k: v for k, v in state.items() if k != "token"}, "idle": seen}


def stop(ws: Workspace, name: str, timeout: float = 30.0) -> dict:
    state = known(ws, name)
    if state.get("pid") and alive(state, ws):  # Jupyter as mlws started it, never another process
        try:
            os.killpg(state["pid"], signal.SIGTERM)  # Jupyter shuts its kernels down on SIGTERM
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while alive(state, ws) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(state, ws):
            os.killpg(state["pid"], signal.SIGKILL)
    (notebooks_dir(ws) / name / "state.json").unlink(missing_ok=True)
    return state


def forget(ws: Workspace, name: str) -> None:
    (notebooks_dir(ws) / name / "state.json").unlink(missing_ok=True)


class _Terminated(Exception):
    pass


def _raise_terminated(signum, frame):
    raise _Terminated


def wait(state: dict, timeout: float = 30.0) -> int | None:
    """Block while the server runs (a foreground `mlws notebook`). Ctrl-C or SIGTERM stops Jupyter
    too (never left behind); SIGTERM returns its number, for the shell's status 143."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        while alive(state):
            time.sleep(0.5)
        return None
    except (KeyboardInterrupt, _Terminated) as e:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the shutdown short
        _stop_process(state, timeout)
        if isinstance(e, KeyboardInterrupt):
            raise
        return int(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_process(state: dict, timeout: float) -> None:
    """SIGTERM to the Jupyter mlws started and its session (its kernels), SIGKILL if it lingers."""
    if not alive(state):
        return
    try:
        os.killpg(state["pid"], signal.SIGTERM)  # Jupyter shuts its kernels down on SIGTERM
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(state) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(state):
        os.killpg(state["pid"], signal.SIGKILL)


def known(ws: Workspace, name: str) -> dict:
    """The recorded state of a running notebook; a clear error naming the running ones otherwise."""
    state = read_state(ws, name)
    if state is None or (state.get("pid") and not alive(state, ws)):
        running = [s["name"] for s in listing(ws)]
        raise MlwsError(
            f"no notebook named {name!r} is running" + (f" (running: {', '.join(running)})" if running else "")
        )
    return state


def alive(state: dict, ws: Workspace | None = None) -> bool:
    """The recorded process still runs and is the Jupyter mlws started: its start time matches and
    its command line names this notebook's config file. A state without a start time is not one."""
    from ..serving.state_files import started_process

    name = str(state.get("name"))
    marks = ["jupyterlab", "--config=", str(Path("notebooks") / name / "jupyter_config.json")]
    if ws is not None:
        marks = ["jupyterlab", f"--config={notebooks_dir(ws) / name / 'jupyter_config.json'}"]
    return started_process(state.get("pid"), state.get("pid_started"), marks)


def _started(pid: int) -> float | None:
    from ..registry.liveness import process_started

    return process_started(pid)


def _write_private(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)  # a new file, 0600 from its first byte, never a planted symlink's target
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
