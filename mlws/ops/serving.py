"""Serving a run's model: Ray Serve on this machine (foreground or detached), a Ray Serve config
file for a cluster, or a backend that serves elsewhere (SkyPilot VM)."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import MlwsError
from ..workspace import Workspace
from .session import session, workspace_of


def _serve_setup(run_id: int, host: str | None, port: int | None, ws: Workspace):
    from ..serving.app import app_args
    from ..serving.loading import completed_input
    record = session(ws).registry.get(int(run_id))
    serve_cfg = dict((record.get("config") or {}).get("serve") or _default_serve_config(ws, record))
    serve_cfg["input"] = completed_input(serve_cfg["input"], record.get("artifacts"))
    host = host or serve_cfg.get("host", "127.0.0.1")
    port = int(port or serve_cfg.get("port", 8000))
    if serve_cfg.get("token_env") and not os.environ.get(serve_cfg["token_env"]):
        raise MlwsError(f"serve.token_env names {serve_cfg['token_env']}, which is not set")
    return record, app_args(record, serve_cfg, host, port)


def _default_serve_config(ws: Workspace, record: dict) -> dict:
    """Runs recorded before the serve group existed get today's defaults, resolved against their data."""
    from ..config import compose
    cfg = compose(ws, []).config.get("serve")
    if not cfg:
        raise MlwsError(f"run {record['id']} has no serve config and the workspace has no serve group "
                        "(conf/serve/default.yaml); add one to serve it")
    cfg["input"]["normalize"] = bool(((record.get("config") or {}).get("data") or {}).get("normalize", False))
    return cfg


def serve(run_id: int, *, host: str | None = None, port: int | None = None, detach: bool = False,
          workspace=None, ready=print, timeout: float = 180.0) -> dict:
    """Serve a run's model; foreground blocks until interrupted, detach returns once healthy."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    from ..serving.loading import checkpoint_path, load_weights
    from ..serving.server import port_free, serve_forever, state_dir

    ws = workspace_of(workspace)
    record, args = _serve_setup(run_id, host, port, ws)
    load_weights(checkpoint_path(record))  # refuse a bad or malicious checkpoint before starting Ray
    if not port_free(args["host"], args["port"]):
        raise MlwsError(f"port {args['port']} on {args['host']} is in use; choose another with --port")
    states = state_dir(ws.root)
    states.mkdir(parents=True, exist_ok=True)
    state_file = states / f"run-{run_id}.json"
    if not detach:
        serve_forever(args, state_file, ready=ready)
        return {"run_id": int(run_id), "url": f"http://{args['host']}:{args['port']}"}
    args_file = states / f"run-{run_id}.args.json"
    args_file.write_text(json.dumps(args))
    log = states / f"run-{run_id}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mlws.serving.server", str(args_file), str(state_file)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{args['host']}:{args['port']}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise MlwsError(f"the server for run {run_id} exited (code {proc.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200 and state_file.exists():
                    return {"run_id": int(run_id), "url": url, "pid": proc.pid, "log": str(log)}
        except OSError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise MlwsError(f"the server for run {run_id} was not healthy after {timeout:.0f} s; see {log}")


def serve_list(*, workspace=None) -> list[dict]:
    import json

    from ..registry.liveness import process_alive
    from ..serving.server import state_dir
    out = []
    for f in sorted(state_dir(workspace_of(workspace).root).glob("run-*.json")):
        if f.name.endswith(".args.json"):
            continue
        state = json.loads(f.read_text())
        if process_alive(state["pid"], None):
            out.append(state)
        else:
            f.unlink()  # a server that died without cleaning up
    return out


def serve_stop(run_id: int, *, workspace=None, timeout: float = 60.0) -> dict:
    import signal
    import time

    from ..registry.liveness import process_alive
    servers = {s["run_id"]: s for s in serve_list(workspace=workspace)}
    if int(run_id) not in servers:
        raise MlwsError(f"run {run_id} is not being served (mlws serve list)")
    state = servers[int(run_id)]
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process_alive(state["pid"], None):
        time.sleep(0.2)
    if process_alive(state["pid"], None):
        raise MlwsError(f"the server for run {run_id} (pid {state['pid']}) did not stop in {timeout:.0f} s")
    try:  # Ray's agent processes can outlive their raylet: end the server's whole session
        os.killpg(state["pid"], signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    _wait_port_free(state["url"], deadline)
    return state


def _wait_port_free(url: str, deadline: float) -> None:
    """Ray's HTTP proxy lets go of the port a moment after the server process ends."""
    import time
    from urllib.parse import urlparse

    from ..serving.server import port_free
    u = urlparse(url)
    while time.monotonic() < deadline and not port_free(u.hostname, u.port):
        time.sleep(0.2)


def serve_export(run_id: int, output, *, host: str | None = None, port: int | None = None, workspace=None) -> Path:
    """A Ray Serve config file (`serve run FILE`, or KubeRay's serveConfigV2) for this run."""
    import yaml
    ws = workspace_of(workspace)
    _, args = _serve_setup(run_id, host, port, ws)
    args["token"] = None  # never written to a file: set serve.token_env on the cluster instead
    config = {"proxy_location": "EveryNode", "http_options": {"host": args["host"], "port": args["port"]},
              "applications": [{"name": f"run-{run_id}", "route_prefix": "/",
                                "import_path": "mlws.serving.app:build_app", "args": args}]}
    path = Path(output)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def serve_remote(run_id: int, overrides=(), *, port: int | None = None, dry_run: bool = False,
                 workspace=None) -> dict:
    """Serve a run where a compute backend runs things (`compute=sky ...` overrides): task, price, URL."""
    from ..compute import get_backend
    from ..config import compose
    from ..serving.loading import checkpoint_path, load_weights

    ws = workspace_of(workspace)
    backend = get_backend(compose(ws, list(overrides)).config.get("compute") or {}, ws.root)
    record, args = _serve_setup(run_id, "0.0.0.0", port, ws)  # public on the VM: its port is opened
    load_weights(checkpoint_path(record))  # refuse a bad checkpoint before anything launches
    return backend.serve(record, {**args, "checkpoint": str(checkpoint_path(record))}, workspace=ws,
                         dry_run=dry_run)
