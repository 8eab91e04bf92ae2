"""RunSpec → SkyPilot task config (a plain dict, the same shape as a `sky launch` YAML). Pure."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from ... import node_env
from ...errors import MlwsError
from ...provenance import package_versions
from .node_run import TRANSIENT_EXIT
from .node_setup import node_install
from .torch_wheels import accelerator_names, torch_index  # noqa: F401  (where they used to live)

REMOTE_SPEC = "/mlws/spec.json"
REMOTE_BUCKET_DIR = "/mlws/bucket"  # the bucket's root: SkyPilot 0.14 mounts whole buckets, never a sub-path
RESOURCE_KEYS = ("infra", "accelerators", "instance_type", "cpus", "memory", "use_spot", "disk_size")


def bucket_run_url(bucket: str, spec) -> str:
    """The run's folder in the bucket, keyed by its unique id as well as its number: after `make clean`,
    or with a bucket shared by several workspaces, run 3 never finds (and resumes) another run 3's files."""
    key = f"{spec.run_id}-{spec.uid}" if spec.uid else str(spec.run_id)
    return f"{bucket.rstrip('/')}/runs/{key}"


def job_name(spec) -> str:
    """The run's managed job (or cluster) name: its number and its unique id, so two workspaces' (or two
    teammates') run 3 never share a cluster, or resume each other's last.ckpt on a reused one."""
    return f"mlws-{spec.run_id}" + (f"-{spec.uid[:8]}" if spec.uid else "")


def workspace_tag(root) -> str:
    """8 hex digits for this user's workspace on this machine: names of its servers' and notebooks'
    clusters (the registry keeps no uid for those), unique across workspaces and teammates."""
    import getpass
    import hashlib
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return hashlib.sha256(f"{user}@{socket.gethostname()}:{Path(root).resolve()}".encode()).hexdigest()[:8]


def split_bucket(url: str) -> tuple[str, str]:
    """s3://team/mlws -> (s3://team, mlws): the bucket SkyPilot mounts, and the folder in it. Azure's
    https://ACCOUNT.blob.core.windows.net/CONTAINER/mlws keeps its container in the root."""
    scheme, _, rest = url.rstrip("/").partition("://")
    name, _, prefix = rest.partition("/")
    if name.endswith(".blob.core.windows.net"):
        container, _, prefix = prefix.partition("/")
        name = f"{name}/{container}"
    return f"{scheme}://{name}", prefix


def remote_run_dir(spec) -> str:
    """Where the run directory lives on the node: its folder in the mounted bucket, else under the workdir."""
    c = spec.config["compute"]
    if not c.get("bucket"):
        # keyed by the unique id too: a reused cluster's workdir keeps other runs' folders
        return "runs/" + (
            f"{spec.run_id}-{spec.uid}" if spec.uid else str(spec.run_id if spec.run_id is not None else "N")
        )
    root, _ = split_bucket(c["bucket"])
    return REMOTE_BUCKET_DIR + bucket_run_url(c["bucket"], spec)[len(root) :]


def compile_task(spec, spec_path: str | os.PathLike | None = None, wheel: str | os.PathLike | None = None) -> dict:
    """The SkyPilot task for this run. Secrets appear by name only (values are added at launch).
    `wheel`: this machine's mlws as a wheel (wheel.build()), mounted for the node to install."""
    c = spec.config["compute"]
    run_id = spec.run_id if spec.run_id is not None else "N"
    resources = {k: c[k] for k in RESOURCE_KEYS if c.get(k) is not None and c.get(k) is not False}
    if c.get("managed"):
        # Spot preemptions and node failures: SkyPilot relaunches, the worker resumes from last.ckpt.
        # A failure is retried only when another attempt can succeed: the node's runner exits
        # TRANSIENT_EXIT for an NCCL timeout and the like; a setup error, a node whose torch cannot see
        # its GPUs, a user's exception are not retried (each retry is a new VM and a full setup).
        resources["job_recovery"] = {
            "strategy": "EAGER_NEXT_REGION",
            "max_restarts_on_errors": 0,
            "recover_on_exit_codes": [TRANSIENT_EXIT],
        }
    elif c.get("autostop_minutes") is not None:
        # down: an idle cluster is deleted, not stopped (a stopped VM keeps billing for its disk)
        resources["autostop"] = {"idle_minutes": int(c["autostop_minutes"]), "down": True}
    envs = {str(k): str(v) for k, v in (c.get("env") or {}).items()}
    envs.update(
        {
            **node_env.for_worker(run_id=run_id, run_dir=remote_run_dir(spec)),
            "WANDB_MODE": os.environ.get("WANDB_MODE", "") or "auto",
        }
    )
    if envs["WANDB_MODE"] == "auto":
        del envs["WANDB_MODE"]
    wheel_mounts, setup = node_install(c, spec.versions, wheel, spec.workspace)
    file_mounts: dict = {REMOTE_SPEC: str(spec_path) if spec_path else f"runs/{run_id}/spec.json", **wheel_mounts}
    for mount in c.get("mounts") or []:
        source, sep, remote = str(mount).rpartition(":")
        if not sep or not source or not remote.startswith(("/", "~")):
            raise MlwsError(f"compute.mounts: {mount!r} is not SOURCE:REMOTE_PATH (e.g. s3://bucket/data:/data)")
        file_mounts[remote] = _mount_source(source, Path(spec.workspace))
    if c.get("bucket"):
        # MOUNT_CACHED: metrics and hardware files are appended to, which a plain MOUNT does not allow.
        # The whole bucket: SkyPilot mounts only a bucket's root (a sub-path would be dropped silently).
        file_mounts[REMOTE_BUCKET_DIR] = {"source": split_bucket(c["bucket"])[0], "mode": "MOUNT_CACHED"}
    task = {
        "name": job_name(spec) + (f"-{spec.experiment}".replace("_", "-") if spec.experiment else ""),
        "workdir": spec.workspace,
        "num_nodes": int(c.get("num_nodes") or 1),
        "resources": resources,
        "envs": envs,
        "file_mounts": file_mounts,
        "setup": setup,
        # The same worker the local backend runs, on the same frozen spec: no Hydra on the node.
        # runs `python -m mlws.worker SPEC`, under a hard time limit, with exit codes SkyPilot acts on
        "run": f"python -m mlws.compute.sky.node_run {REMOTE_SPEC}",
    }
    if c.get("secrets"):
        task["secrets"] = {str(name): None for name in c["secrets"]}
    return task


def _mount_source(source: str, workspace: Path):
    if "://" in source:
        # SkyPilot mounts a bucket's root only; a folder in a bucket is copied to the node instead
        return {"source": source, "mode": "MOUNT"} if not split_bucket(source)[1] else source
    path = (workspace / source).resolve() if not os.path.isabs(source) else Path(source)
    if not path.exists():
        raise MlwsError(f"compute.mounts: local path {source!r} does not exist ({path})")
    return str(path)


def secret_values(c: dict, environ=os.environ) -> dict:
    """The secrets' values, from this machine's environment, for the launch only."""
    missing = [n for n in c.get("secrets") or [] if n not in environ]
    if missing:
        raise MlwsError(f"compute.secrets: {', '.join(missing)} not set in this environment")
    return {n: environ[n] for n in c.get("secrets") or []}


def compile_serve_task(
    compute: dict,
    workspace: str,
    run_id: int,
    args_path: str,
    checkpoint: str,
    port: int,
    token: bool = False,
    wheel=None,
    cluster: str | None = None,
) -> dict:
    """A SkyPilot task that serves a run's model on a VM: the port opened, and a lifetime limit
    (autostop that does not wait for the always-running server job), so no demo runs forever.
    `token`: the server requires the run's bearer token, given at launch as the MLWS_SERVE_TOKEN secret."""
    resources = {k: compute[k] for k in RESOURCE_KEYS if compute.get(k) is not None and compute.get(k) is not False}
    resources["ports"] = [int(port)]
    lifetime = int(compute.get("max_runtime_minutes") or 240)
    resources["autostop"] = {"idle_minutes": lifetime, "wait_for": "none", "down": True}
    mounts, setup = node_install(compute, package_versions(), wheel, workspace, task="serve")
    return {
        "name": cluster or f"mlws-serve-{run_id}-{workspace_tag(workspace)}",
        "workdir": workspace,
        "resources": resources,
        "envs": {str(k): str(v) for k, v in (compute.get("env") or {}).items()},
        "file_mounts": {
            "/mlws/serve-args.json": args_path,
            f"/mlws/checkpoint{Path(checkpoint).suffix}": checkpoint,
            **mounts,
        },
        "setup": setup,
        "run": "python -m mlws.serving.server /mlws/serve-args.json",
        **({"secrets": {"MLWS_SERVE_TOKEN": None}} if token else {}),  # the value is added at launch
    }


def notebook_cluster(workspace, name: str) -> str:
    return f"mlws-notebook-{name}-{workspace_tag(workspace)}"


NOTEBOOK_WORK = "/mlws-work"  # persistent: a bucket mounted with SkyPilot's cached mode


def compile_notebook_task(
    compute: dict,
    workspace: str,
    name: str,
    port: int,
    idle_minutes: float,
    expose: bool,
    storage_name: str,
    wheel=None,
) -> dict:
    """JupyterLab on a VM in the project's environment. Reached through an SSH tunnel unless
    `expose` opens its port; when nobody uses it the server stops, and the cluster then stops
    itself and is torn down (`down`). Files under work/ live on a bucket and outlive the VM."""
    resources = {k: compute[k] for k in RESOURCE_KEYS if compute.get(k) is not None and compute.get(k) is not False}
    resources["autostop"] = {"idle_minutes": int(compute.get("autostop_minutes") or 5), "down": True}
    if expose:
        resources["ports"] = [int(port)]
    bucket = compute.get("bucket")
    # the bucket's root is mounted (SkyPilot mounts no sub-path); work/ is this notebook's folder in it
    root, prefix = split_bucket(str(bucket)) if bucket else (None, "")
    storage = {"source": root, "mode": "MOUNT_CACHED"} if bucket else {"name": storage_name, "mode": "MOUNT_CACHED"}
    work = "/".join(p for p in (NOTEBOOK_WORK, prefix, "notebooks", name) if p) if bucket else NOTEBOOK_WORK
    host = "0.0.0.0" if expose else "127.0.0.1"
    mounts, setup = node_install(compute, package_versions(), wheel, workspace, task="notebook")
    run = (
        f"mkdir -p {shlex.quote(work)} && ln -sfn {shlex.quote(work)} work && "
        f"python -m mlws.cli.main notebook compute=local --name {shlex.quote(name)} "
        f"--host {host} --port {int(port)} --idle-minutes {float(idle_minutes)} --token-env MLWS_NOTEBOOK_TOKEN"
    )
    if compute.get("max_runtime_minutes"):
        # a hard limit: a busy kernel keeps the idle policy from ever stopping it (and max_cost is priced on
        # this limit); then the cluster's autostop tears the VM down
        run = (
            f"timeout --signal=TERM --kill-after=60 {int(float(compute['max_runtime_minutes']) * 60)}s "
            f"bash -c {shlex.quote(run)}"
        )
    return {
        "name": notebook_cluster(workspace, name),
        "workdir": workspace,
        "resources": resources,
        "envs": {str(k): str(v) for k, v in (compute.get("env") or {}).items()},
        "file_mounts": {NOTEBOOK_WORK: storage, **mounts},
        "setup": setup,
        "run": run,
        "secrets": {"MLWS_NOTEBOOK_TOKEN": None},  # the value is added at launch, never written here
    }
