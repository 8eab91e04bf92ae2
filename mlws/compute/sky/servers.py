"""A model server and a JupyterLab on a SkyPilot VM (SkyBackend.serve / .notebook): compile, validate,
price, launch; the notebook reached through an SSH tunnel from a free local port."""

from __future__ import annotations

from pathlib import Path

from ...errors import MlwsError
from .shared import node_wheel, price_line, upload_excludes


def serve(compute: dict, record: dict, args: dict, *, workspace, dry_run: bool = False) -> dict:
    """Serve on a VM: the port opened, and a lifetime limit so no demo runs forever."""
    import json

    from . import clusters, pricing
    from .compile import compile_serve_task

    run_id = int(record["id"])
    states = workspace.state_dir / "serve"
    states.mkdir(parents=True, exist_ok=True)
    args_path = states / f"run-{run_id}.cloud-args.json"
    local_checkpoint = args["checkpoint"]
    remote_weights = f"/mlws/checkpoint{Path(local_checkpoint).suffix}"  # .safetensors (or an old run's .ckpt)
    args = {**args, "checkpoint": remote_weights}
    args_path.write_text(json.dumps({**args, "token": None}))  # the token travels as a secret only
    token = args.get("token")
    task_config = compile_serve_task(
        compute,
        str(workspace.root),
        run_id,
        str(args_path),
        str(local_checkpoint),
        args["port"],
        token=bool(token),
        wheel=node_wheel(),
    )
    cluster = task_config["name"]  # mlws-serve-N-<workspace tag>: unique across workspaces and teammates
    if not dry_run:
        upload_excludes(workspace.root)
    task = pricing.validate(task_config, secrets={"MLWS_SERVE_TOKEN": token} if token else None)
    estimate = pricing.estimate(task, compute.get("max_runtime_minutes") or 240)
    lines = (
        [
            f"{estimate['instance_type']} at ${estimate['hourly_price']:.2f}/hour; stops itself after "
            f"{task_config['resources']['autostop']['idle_minutes']} minutes"
        ]
        if estimate.get("available")
        else []
    )
    if dry_run:
        return {"task": task_config, "estimate": estimate, "lines": lines}
    launched = clusters.launch_server(task, cluster, args["port"])
    return {
        "task": task_config,
        "estimate": estimate,
        "lines": lines,
        "where": f"SkyPilot cluster {launched['cluster']}",
        **launched,
    }


def notebook(
    compute: dict,
    *,
    workspace,
    name: str,
    port: int,
    idle_minutes: float,
    token: str,
    expose: bool,
    dry_run: bool = False,
) -> dict:
    """JupyterLab on a VM: price first, then launch; reached through an SSH tunnel (or `expose`)."""
    import hashlib

    from . import clusters, pricing
    from .compile import compile_notebook_task

    storage = "mlws-notebook-" + hashlib.sha256(f"{workspace.root}:{name}".encode()).hexdigest()[:12]
    task_config = compile_notebook_task(
        compute, str(workspace.root), name, port, idle_minutes, expose, storage, wheel=node_wheel()
    )
    task = pricing.validate(task_config)
    estimate = pricing.estimate(task, compute.get("max_runtime_minutes"))
    limit = compute.get("max_cost")
    if limit is not None:
        hours = float(compute.get("max_runtime_minutes") or 0) / 60
        if not estimate.get("available"):
            raise MlwsError(f"compute.max_cost is set but the price is unknown ({estimate['reason']})")
        if not hours:
            raise MlwsError("compute.max_cost needs compute.max_runtime_minutes to bound a notebook's cost")
        if estimate["hourly_price"] * hours > limit:
            raise MlwsError(
                f"a notebook for {compute['max_runtime_minutes']} min at "
                f"${estimate['hourly_price']:.2f}/hour exceeds compute.max_cost ${limit:.2f}"
            )
    lines = [
        price_line(estimate) + (" (stops when idle, then the VM is torn down)" if estimate.get("available") else "")
    ]
    cluster = task_config["name"]  # mlws-notebook-NAME-<workspace tag>
    local_port = free_local_port(port)
    result = {
        "name": name,
        "backend": "sky",
        "cluster": cluster,
        "token": token,
        "idle_minutes": idle_minutes,
        "task": task_config,
        "estimate": estimate,
        "lines": lines,
        "tunnel": None if expose else tunnel(cluster, local_port, port, pricing.api_server_is_remote()),
    }
    if dry_run:
        return result
    upload_excludes(workspace.root)
    task = pricing.validate(task_config, secrets={"MLWS_NOTEBOOK_TOKEN": token})
    launched = clusters.launch_notebook(task, cluster, port if expose else None)
    url = launched.get("url") if expose else f"http://localhost:{local_port}"
    return {**result, **launched, "url": url}


def notebook_status(state: dict) -> dict:
    from . import clusters

    cluster = state["cluster"]
    status = clusters.cluster_state(cluster)
    if status is None:
        return {"active": False, "gone": True, "reasons": [f"cluster {cluster} no longer exists (torn down when idle)"]}
    return {
        "active": status == "UP",
        "gone": False,
        "reasons": [f"cluster {cluster} is {status}; the idle policy runs on the VM (sky logs {cluster})"],
    }


def free_local_port(port: int) -> int:
    """PORT when it is free on this machine, else a free one (8888 is often taken)."""
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", int(port)))
            return int(port)
        except OSError:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


def tunnel(cluster: str, local_port: int, port: int, api_server_remote: bool) -> str:
    """The SSH tunnel to the notebook's port. `ssh CLUSTER` needs SkyPilot's entry in ~/.ssh/config,
    which a remote API server does not write on this machine: SkyPilot's `sky status CLUSTER` does."""
    ssh = f"ssh -N -L {int(local_port)}:localhost:{int(port)} {cluster}"
    return f"sky status {cluster} >/dev/null && {ssh}" if api_server_remote else ssh
