"""The notebook API: every run as a DataFrame, one run with its model, the `%mlws` magic's home."""

from __future__ import annotations

from .records import as_dict
from .session import session


def runs_frame(
    *,
    label=None,
    experiment=None,
    status=None,
    search=None,
    where=(),
    sort=None,
    ascending=False,
    limit=None,
    workspace=None,
):
    """A pandas DataFrame, one row per run (filters as `mlws runs`): id, experiment, status, labels,
    note, parent, created_at, ended_at, metrics.* and params.* (the flattened effective config)."""
    import json

    import pandas as pd

    from ..flatten import flatten_into

    registry = session(workspace).registry
    rows = registry.table(experiment=experiment, status=status, label=label, search=search)
    if where or sort:
        from ..history.query import apply_where, sort_runs

        by_id = {r[0]: r for r in rows}
        picked = sort_runs(
            apply_where([{"id": r[0], "metrics": json.loads(r[8] or "{}")} for r in rows], list(where)), sort, ascending
        )
        rows = [by_id[p["id"]] for p in picked]
    if limit is not None:
        rows = rows[-limit:] if not sort else rows[:limit]
    loads, records = json.loads, []
    for run_id, exp, state, labels, note, parent, created, ended, metrics, config in rows:
        record = {
            "id": run_id,
            "experiment": exp,
            "status": state,
            "labels": loads(labels or "[]"),
            "note": note,
            "parent": parent,
            "created_at": created,
            "ended_at": ended,
        }
        for k, v in loads(metrics or "{}").items():
            record["metrics." + k] = v
        flatten_into(record, loads(config or "{}"), "params.")
        records.append(record)
    return (
        pd.DataFrame.from_records(records)
        if records
        else pd.DataFrame(columns=["id", "experiment", "status", "labels", "note", "parent", "created_at", "ended_at"])
    )


def load_run(run_id: int, *, workspace=None):
    """A run with .config, .metrics, .artifacts, and .model rebuilt from its best checkpoint (plain
    weights only: a checkpoint carrying code is refused); .predict(inputs) as its server answers."""
    from ..jupyter.loaded import LoadedRun

    return LoadedRun(as_dict(session(workspace).registry.get(int(run_id))))


DEFAULT_PORT = 8888


def notebook(
    overrides=(),
    *,
    name: str | None = None,
    host: str | None = None,
    port: int | None = None,
    idle_minutes: float = 60.0,
    detach: bool = False,
    expose: bool = False,
    token_env: str | None = None,
    dry_run: bool = False,
    workspace=None,
    ready=print,
) -> dict:
    """JupyterLab in this project's environment, where the compute config says (this machine by
    default; a cloud GPU with compute=sky). A server here in the foreground blocks until it stops."""
    import json

    from ..compute import get_backend
    from ..config import compose
    from ..errors import MlwsError
    from ..jupyter import local
    from .session import workspace_of

    ws = workspace_of(workspace)
    if name is not None:
        local.check_name(name)  # before anything is launched or written
    if port is not None and not 1 <= int(port) <= 65535:
        raise MlwsError(f"--port {port}: a port is 1 to 65535")
    if idle_minutes is None or idle_minutes < 0:
        raise MlwsError("--idle-minutes must be 0 (never stop) or more")
    token = _token(token_env) or local.new_token()
    if len(token) < local.MIN_TOKEN_CHARS:
        raise MlwsError(
            f"the notebook token must have at least {local.MIN_TOKEN_CHARS} characters"
            + (" (--expose never leaves a public port open)" if expose else "")
        )
    compute = compose(ws, list(overrides)).config.get("compute") or {}
    backend = get_backend(compute, ws.root)
    state = backend.notebook(
        workspace=ws,
        name=name or backend.name,
        host=host or "127.0.0.1",
        port=port if port is not None else DEFAULT_PORT,
        idle_minutes=idle_minutes,
        token=token,
        expose=expose,
        dry_run=dry_run,
    )
    if dry_run:
        return state
    folder = local.notebooks_dir(ws) / local.check_name(state["name"])
    folder.mkdir(parents=True, exist_ok=True)
    # the compute node with its _target_: `notebook stop` asks the same backend to take it down
    kept = {**{k: v for k, v in state.items() if k not in ("task", "estimate", "lines")}, "compute": compute}
    local._write_private(folder / "state.json", json.dumps(kept, indent=1, default=str))
    if state.get("pid") and not detach:  # a server on this machine, in the foreground
        ready(state)
        try:
            stopped_by = local.wait(state)
            if stopped_by:  # SIGTERM: Jupyter stopped too; the caller exits 128 + it
                state = {**state, "signal": stopped_by}
        finally:
            (folder / "state.json").unlink(missing_ok=True)
    return state


def notebook_list(*, workspace=None) -> list[dict]:
    from ..jupyter import local
    from .session import workspace_of

    return [
        {k: v for k, v in s.items() if k != "token"} | {"link": _link(s)}
        for s in local.listing(workspace_of(workspace))
    ]


def notebook_status(name: str, *, workspace=None) -> dict:
    """The notebook's state and why it counts as active; a cloud one asks its backend."""
    from ..compute import get_backend
    from ..jupyter import local
    from .session import workspace_of

    ws = workspace_of(workspace)
    state = local.status(ws, name)
    remote = get_backend(_trusted_compute(state, ws), ws.root).notebook_status(state, workspace=ws)
    if remote is not None:
        state["idle"] = remote
        if remote.get("gone"):
            local.forget(ws, name)
    return state


def notebook_stop(name: str, *, workspace=None) -> dict:
    from ..compute import get_backend
    from ..jupyter import local
    from .session import workspace_of

    ws = workspace_of(workspace)
    state = local.known(ws, name)  # a clear error for an unknown name
    compute = _trusted_compute(state, ws) or {"_target_": "mlws.compute.local.LocalBackend"}
    get_backend(compute, ws.root).notebook_down(state, workspace=ws)
    local.forget(ws, name)
    return {k: v for k, v in state.items() if k != "token"}


def _trusted_compute(state: dict, ws) -> dict:
    """The state's compute node, if its backend is mlws's or the workspace's own (a planted state
    file must not get code imported)."""
    from ..compute.trusted import compute_error
    from ..errors import MlwsError

    why = compute_error(state.get("compute"), ws.root)
    if why:
        raise MlwsError(f"notebook {state.get('name')!r}: its state file is not one mlws wrote ({why})")
    return dict(state.get("compute") or {})


def _link(state: dict) -> str:
    return f"{state['url']}/lab?token={state['token']}" if state.get("url") and state.get("token") else ""


def _token(token_env: str | None) -> str | None:
    import os

    from ..errors import MlwsError

    if not token_env:
        return None
    value = os.environ.get(token_env, "")
    if not value:
        raise MlwsError(f"--token-env {token_env}: the variable is not set (or empty)")
    return value
