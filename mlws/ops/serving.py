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
    args = app_args(record, serve_cfg, host, port)
    from ..serving.card import run_card  # the demo page's header: the run and its step from its parent

    try:
        parent = session(ws).registry.get(int(record["parent_id"])) if record.get("parent_id") else None
    except MlwsError:  # a parent since deleted: the card goes without its step
        parent = None
    from .replicate_views import group_of_record

    group = group_of_record(session(ws).registry, record)  # its seeds' spread, when it has replicates
    args["card"] = run_card(record, parent, replicates=group["text"] if group and group.get("n", 0) > 1 else None)
    return record, args


def _default_serve_config(ws: Workspace, record: dict) -> dict:
    """Runs recorded before the serve group existed get today's defaults, resolved against their data."""
    from ..config import compose

    cfg = compose(ws, []).config.get("serve")
    if not cfg:
        raise MlwsError(
            f"run {record['id']} has no serve config and the workspace has no serve group "
            "(conf/serve/default.yaml); add one to serve it"
        )
    cfg["input"]["normalize"] = bool(((record.get("config") or {}).get("data") or {}).get("normalize", False))
    return cfg


def _refuse_open_public(args: dict, insecure: bool) -> None:
    """Jupyter's rule: a server that other machines can reach needs a token, unless told otherwise."""
    from ..serving.guard import is_loopback

    if not is_loopback(args["host"]) and not args.get("token") and not insecure:
        raise MlwsError(
            f"refusing to serve on {args['host']} without a token (anyone who reaches the port could "
            "use the model): set serve.token_env=VAR with VAR exported, or pass --insecure"
        )


def serve(
    run_id: int,
    *,
    host: str | None = None,
    port: int | None = None,
    detach: bool = False,
    insecure: bool = False,
    verbose: bool = False,
    workspace=None,
    ready=print,
    progress=print,
    timeout: float = 180.0,
) -> dict:
    """Serve a run's model; foreground blocks until interrupted (the result says by which signal),
    detach returns once healthy, showing the server's progress (every line of its log if verbose)."""
    from ..serving.loading import checkpoint_path, load_weights
    from ..serving.server import port_free, serve_forever, state_dir

    ws = workspace_of(workspace)
    record, args = _serve_setup(run_id, host, port, ws)
    _refuse_open_public(args, insecure)
    load_weights(checkpoint_path(record))  # refuse a bad or malicious checkpoint before starting Ray
    if not port_free(args["host"], args["port"]):
        raise MlwsError(f"port {args['port']} on {args['host']} is in use; choose another with --port")
    running = {s["run_id"]: s for s in serve_list(workspace=ws)}.get(int(run_id))
    if running:  # two servers of one run would share its state file: the first would be lost track of
        raise MlwsError(f"run {run_id} is already served at {running.get('url')} (mlws serve stop {run_id} first)")
    states = state_dir(ws.root)
    states.mkdir(parents=True, exist_ok=True)
    state_file = states / f"run-{run_id}.json"
    if not detach:
        signum = serve_forever(args, state_file, ready=ready, progress=progress)
        return {"run_id": int(run_id), "url": _url(args), "signal": int(signum)}
    return _start_detached(int(run_id), args, state_file, verbose=verbose, progress=progress, timeout=timeout)


def _start_detached(run_id: int, args: dict, state_file: Path, *, verbose: bool, progress, timeout: float) -> dict:
    """The server in its own session, logging to run-N.log; returns once /health answers. Its
    progress lines are shown as they come (every line of the log if verbose)."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    from ..serving.server import PROGRESS, write_private

    args_file = state_file.with_name(f"run-{run_id}.args.json")
    write_private(args_file, json.dumps({**args, "token": None}))  # the token goes by the environment
    env = {k: v for k, v in os.environ.items() if k != "MLWS_SERVE_TOKEN"}
    if args.get("token"):
        env["MLWS_SERVE_TOKEN"] = args["token"]
    log = state_file.with_name(f"run-{run_id}.log")
    with log.open("ab") as out:
        seen = out.tell()
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlws.serving.server", str(args_file), str(state_file)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    url, deadline, last = _url(args), time.monotonic() + timeout, [""]

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
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200 and state_file.exists():
                        show_new_lines()
                        return {"run_id": run_id, "url": url, "pid": proc.pid, "log": str(log)}
            except OSError:
                pass
            time.sleep(0.5)
        raise MlwsError(f"the server for run {run_id} was not healthy after {timeout:.0f} s; see {log}")
    except BaseException:  # no half-started server left behind, nor its args file
        if proc.poll() is None:
            proc.terminate()
        args_file.unlink(missing_ok=True)
        raise


def _url(args: dict) -> str:
    host = args["host"]
    return f"http://[{host}]:{args['port']}" if ":" in host else f"http://{host}:{args['port']}"


def _servers(ws: Workspace) -> dict[int, tuple[str, Path, dict]]:
    """Run id -> (kind, state file, state) for the servers this workspace started: `local` (a
    process here: run-N.json) and `cloud` (run-N.cloud.json). A backend's other files (a dry run's
    run-N.cloud-args.json) and unreadable ones are not servers."""
    import json
    import re

    from ..serving.server import state_dir

    folder = state_dir(ws.root)
    out = {}
    for f in sorted(folder.glob("run-*.json")) if folder.is_dir() else []:
        m = re.fullmatch(r"run-(\d+)(\.cloud)?\.json", f.name)
        if not m:
            continue
        try:
            state = json.loads(f.read_text())
        except (OSError, ValueError):
            continue  # being written, or damaged: not a server we can speak for
        if isinstance(state, dict):
            out[int(m.group(1))] = ("cloud" if m.group(2) else "local", f, state)
    return out


def serve_list(*, workspace=None) -> list[dict]:
    from ..registry.liveness import process_alive

    ws = workspace_of(workspace)
    out = []
    for run_id, (kind, f, state) in _servers(ws).items():
        if kind == "cloud":
            out.append({k: v for k, v in state.items() if k != "compute"})
        elif isinstance(state.get("pid"), int) and process_alive(state["pid"], state.get("process_started")):
            out.append(state)
        else:  # a server that died without cleaning up
            f.unlink(missing_ok=True)
            f.with_name(f"run-{run_id}.args.json").unlink(missing_ok=True)
    return out


def serve_stop(run_id: int, *, workspace=None, timeout: float = 60.0) -> dict:
    import signal
    import time

    from ..registry.liveness import process_alive

    ws = workspace_of(workspace)
    listed = {s["run_id"]: s for s in serve_list(workspace=ws)}
    if int(run_id) not in listed:
        raise MlwsError(f"run {run_id} is not being served (mlws serve list)")
    kind, state_file, state = _servers(ws)[int(run_id)]
    if kind == "cloud":
        return _stop_cloud(int(run_id), state_file, state, ws)
    os.kill(state["pid"], signal.SIGTERM)  # serve_list checked it is still the server (pid and start time)
    deadline = time.monotonic() + timeout
    started = state.get("process_started")
    while time.monotonic() < deadline and process_alive(state["pid"], started):
        time.sleep(0.2)
    if process_alive(state["pid"], started):
        raise MlwsError(f"the server for run {run_id} (pid {state['pid']}) did not stop in {timeout:.0f} s")
    try:  # Ray's agent processes can outlive their raylet: end the server's whole session
        os.killpg(state["pid"], signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    state_file.unlink(missing_ok=True)
    state_file.with_name(f"run-{run_id}.args.json").unlink(missing_ok=True)
    _wait_port_free(state["url"], deadline)
    return state


def _stop_cloud(run_id: int, state_file: Path, state: dict, ws: Workspace) -> dict:
    """Tear down the cluster the backend launched for this server."""
    from ..compute import get_backend

    try:  # (its backend's extra may be missing here, or the API server unreachable)
        backend = get_backend(dict(state.get("compute") or {}), ws.root)
        # The Backend contract has no serve_down yet; SkyBackend's notebook_down is the teardown of
        # the cluster a state names (sky down), which is what a server's cluster needs too.
        down = getattr(backend, "serve_down", None) or backend.notebook_down
        down({"name": f"serve-{run_id}", "cluster": state["cluster"]}, workspace=ws)
    except MlwsError as e:
        raise MlwsError(f"{e}; tear it down yourself with: sky down {state['cluster']}") from None
    state_file.unlink(missing_ok=True)
    state_file.with_name(f"run-{run_id}.cloud-args.json").unlink(missing_ok=True)
    return {k: v for k, v in state.items() if k != "compute"}


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

    from ..serving.server import http_options

    ws = workspace_of(workspace)
    _, args = _serve_setup(run_id, host, port, ws)
    args["token"] = None  # never written to a file: set serve.token_env on the cluster instead
    config = {
        "proxy_location": "EveryNode",
        "http_options": http_options(args),
        "applications": [
            {"name": f"run-{run_id}", "route_prefix": "/", "import_path": "mlws.serving.app:build_app", "args": args}
        ],
    }
    path = Path(output)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def serve_remote(
    run_id: int, overrides=(), *, port: int | None = None, dry_run: bool = False, insecure: bool = False, workspace=None
) -> dict:
    """Serve a run where a compute backend runs things (`compute=sky ...` overrides): task, price, URL.
    The port is public, so without serve.token_env a token is generated (the result's `token`, shown
    once and kept nowhere), unless `insecure`."""
    import json
    import secrets
    import time

    from ..compute import get_backend
    from ..config import compose
    from ..serving.loading import checkpoint_path, load_weights
    from ..serving.server import state_dir, write_private

    ws = workspace_of(workspace)
    compute = compose(ws, list(overrides)).config.get("compute") or {}
    backend = get_backend(compute, ws.root)
    record, args = _serve_setup(run_id, "0.0.0.0", port, ws)  # public on the VM: its port is opened
    load_weights(checkpoint_path(record))  # refuse a bad checkpoint before anything launches
    generated = None
    if not args.get("token") and not insecure:
        generated = args["token"] = secrets.token_urlsafe(32)  # as a notebook's: 32 random bytes
    result = backend.serve(record, {**args, "checkpoint": str(checkpoint_path(record))}, workspace=ws, dry_run=dry_run)
    if dry_run:
        return result
    if result.get("cluster"):  # what `serve list` shows and `serve stop` tears down
        state = {
            "run_id": int(run_id),
            "url": result.get("url"),
            "where": result.get("where"),
            "cluster": result["cluster"],
            "started": time.time(),
            "compute": compute,
        }
        write_private(state_dir(ws.root) / f"run-{run_id}.cloud.json", json.dumps(state, default=str))
    return {**result, "token": generated} if generated else result
