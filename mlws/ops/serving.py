"""Serving a run's model: the compute backend serves it (LocalBackend: Ray Serve on this machine,
in the foreground or detached; SkyBackend: a VM), and this module keeps one state file per server
(.mlws/serve/run-N.json, the compute node included) that `serve list` and `serve stop` read, or
writes a Ray Serve config file for a cluster."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MlwsError
from ..workspace import Workspace
from .records import as_dict
from .session import session, workspace_of


def _serve_setup(run_id: int, host: str | None, port: int | None, ws: Workspace):
    from ..serving.app import app_args
    from ..serving.loading import completed_input

    record = as_dict(session(ws).registry.get(int(run_id)))  # the backend's serve takes it
    serve_cfg = dict((record.get("config") or {}).get("serve") or _default_serve_config(ws, record))
    serve_cfg["input"] = completed_input(serve_cfg["input"], record.get("artifacts"))
    host = host or serve_cfg.get("host", "127.0.0.1")
    port = int(port if port is not None else serve_cfg.get("port", 8000))
    if not 1 <= port <= 65535:
        raise MlwsError(f"port {port}: a port is 1 to 65535")
    if serve_cfg.get("token_env") and not os.environ.get(serve_cfg["token_env"]):
        raise MlwsError(f"serve.token_env names {serve_cfg['token_env']}, which is not set")
    args = app_args(record, serve_cfg, host, port)
    from ..serving.card import run_card  # the demo page's header: the run and its step from its parent

    parent_id = record.get("parent_id")
    try:
        parent = session(ws).registry.get(int(parent_id)) if parent_id else None
    except MlwsError:  # a parent since deleted: the card goes without its step
        parent = None
    from .replicate_views import group_of_record

    group = group_of_record(session(ws).registry, record)  # its seeds' spread, when it has replicates
    args["card"] = run_card(record, parent, replicates=group["text"] if group and group.get("n", 0) > 1 else None)
    return record, args


def _default_serve_config(ws: Workspace, record: Mapping[str, Any]) -> dict:
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


def serve(
    run_id: int,
    overrides=(),
    *,
    host: str | None = None,
    port: int | None = None,
    detach: bool = False,
    insecure: bool = False,
    verbose: bool = False,
    dry_run: bool = False,
    workspace=None,
    ready=print,
    progress=print,
) -> dict:
    """Serve a run's model where the compute config says (this machine by default; `compute=sky`
    ...: a VM), through that backend's `serve`. Returns the server's state as `serve list` shows it;
    in the foreground, once stopped, the signal that stopped it; a dry run, the backend's task.
    A public server without serve.token_env gets a generated token (the result's `token`, shown
    once and kept nowhere) where the backend is public by nature; asked for by --host, it is refused."""
    import json
    import time

    from ..compute import get_backend
    from ..config import compose
    from ..serving.guard import is_loopback
    from ..serving.loading import checkpoint_path, load_weights
    from ..serving.server import state_dir, write_private

    ws = workspace_of(workspace)
    compute = compose(ws, list(overrides)).config.get("compute") or {}
    backend = get_backend(compute, ws.root)
    record, args = _serve_setup(run_id, host or backend.serve_host, port, ws)
    generated = None
    if not is_loopback(args["host"]) and not args.get("token") and not insecure:
        if host or not backend.serve_host:  # the user opened it: Jupyter's rule, a token or --insecure
            raise MlwsError(
                f"refusing to serve on {args['host']} without a token (anyone who reaches the port could "
                "use the model): set serve.token_env=VAR with VAR exported, or pass --insecure"
            )
        generated = args["token"] = _new_token()
    load_weights(checkpoint_path(record))  # refuse a bad or malicious checkpoint before anything starts
    running = {s["run_id"]: s for s in serve_list(workspace=ws)}.get(int(run_id))
    if running and not dry_run:  # two servers of one run would share its state file: one would be lost
        raise MlwsError(f"run {run_id} is already served at {running.get('url')} (mlws serve stop {run_id} first)")
    state_file = state_dir(ws.root) / f"run-{int(run_id)}.json"
    kept = {"run_id": int(run_id), "started": time.time(), "compute": compute}

    def keep(state: dict) -> dict:  # the one state shape, whatever the backend: what list and stop read
        state = {k: v for k, v in state.items() if k not in ("task", "estimate", "lines", "token")}
        state_file.parent.mkdir(parents=True, exist_ok=True)
        write_private(state_file, json.dumps({**state, **kept}, default=str))
        return {**state, "run_id": int(run_id)}

    def on_ready(state: dict) -> None:  # a server in the foreground: listed while it runs
        ready(keep(state)["url"])

    try:
        result = backend.serve(
            record,
            {**args, "checkpoint": str(checkpoint_path(record))},
            workspace=ws,
            dry_run=dry_run,
            detach=detach,
            verbose=verbose,
            ready=on_ready,
            progress=progress,
        )
    finally:
        if _read(state_file).get("pid") == os.getpid():
            state_file.unlink(missing_ok=True)  # this process's server, in the foreground, has ended
    if dry_run or "signal" in result:
        return {**result, "run_id": int(run_id)}
    shown = {**keep(result), "lines": result.get("lines") or []}
    return {**shown, "token": generated} if generated else shown


def serve_remote(run_id: int, overrides=(), *, port=None, dry_run=False, insecure=False, workspace=None) -> dict:
    """`serve` with compute overrides (kept for callers of the earlier API)."""
    return serve(run_id, overrides, port=port, dry_run=dry_run, insecure=insecure, detach=True, workspace=workspace)


def _new_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)  # as a notebook's: 32 random bytes


def _read(path: Path) -> dict:
    """A state file mlws wrote (private, of this user); {} for one that is not, or is damaged."""
    from ..serving.state_files import read_private_json

    return read_private_json(path) or {}


def _servers(ws: Workspace) -> dict[int, tuple[Path, dict]]:
    """Run id -> (state file, state) for the servers this workspace started (run-N.json). A
    backend's other files (args, logs), unreadable, planted or damaged ones are not servers."""
    import re

    from ..compute.trusted import compute_error
    from ..serving.server import state_dir
    from ..serving.state_files import shape_error, warn_once

    folder = state_dir(ws.root)
    out = {}
    for f in sorted(folder.glob("run-*.json")) if folder.is_dir() else []:
        m = re.fullmatch(r"run-(\d+)\.json", f.name)
        state = _read(f) if m is not None else {}
        if m is None or not state:  # being written, damaged or not mlws's: not a server we can speak for
            continue
        why = shape_error(state, required=("url",)) or compute_error(state.get("compute"), ws.root)
        if why:
            warn_once(f, why)
            continue
        out[int(m.group(1))] = (f, {**state, "run_id": int(m.group(1))})
    return out


def _backend_of(state: dict, ws: Workspace):
    from ..compute import get_backend

    return get_backend(dict(state.get("compute") or {}), ws.root)  # no compute: an earlier local one


def serve_list(*, workspace=None) -> list[dict]:
    """The servers this workspace started and that are still there, whatever their backend; one
    whose backend says it is gone is forgotten."""
    ws = workspace_of(workspace)
    out = []
    for _, (f, state) in _servers(ws).items():
        if _backend_of(state, ws).serve_alive(state, workspace=ws):
            out.append({k: v for k, v in state.items() if k != "compute"})
        else:  # a server that died without cleaning up
            f.unlink(missing_ok=True)
    return out


def serve_stop(run_id: int, *, workspace=None) -> dict:
    """Ask the backend that started the server to stop it; its state is then forgotten."""
    ws = workspace_of(workspace)
    listed = {s["run_id"] for s in serve_list(workspace=ws)}
    if int(run_id) not in listed:
        raise MlwsError(f"run {run_id} is not being served (mlws serve list)")
    state_file, state = _servers(ws)[int(run_id)]
    try:
        _backend_of(state, ws).serve_down(state, workspace=ws)
    except MlwsError as e:
        where = state.get("where") or state.get("url")
        raise MlwsError(f"{e}; the server for run {run_id} ({where}) may still be up") from None
    state_file.unlink(missing_ok=True)
    return {k: v for k, v in state.items() if k != "compute"}


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
    try:
        path.write_text(yaml.safe_dump(config, sort_keys=False))
    except OSError as e:  # a missing folder, a directory, no permission: one line, not a traceback
        raise MlwsError(f"--export {output}: cannot write it: {e.strerror}") from None
    return path
