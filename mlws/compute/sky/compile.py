"""RunSpec → SkyPilot task config (a plain dict, the same shape as a `sky launch` YAML). Pure."""
from __future__ import annotations

import os
import shlex
from pathlib import Path

from ...errors import MlwsError
from ...provenance import package_versions

REMOTE_SPEC = "/mlws/spec.json"
REMOTE_DIST = "/mlws/dist"
REMOTE_BUCKET_DIR = "/mlws/bucket"  # the bucket's root: SkyPilot 0.14 mounts whole buckets, never a sub-path
RESOURCE_KEYS = ("infra", "accelerators", "instance_type", "cpus", "memory", "use_spot", "disk_size")


def bucket_run_url(bucket: str, spec) -> str:
    """The run's folder in the bucket, keyed by its unique id as well as its number: after `make clean`,
    or with a bucket shared by several workspaces, run 3 never finds (and resumes) another run 3's files."""
    key = f"{spec.run_id}-{spec.uid}" if spec.uid else str(spec.run_id)
    return f"{bucket.rstrip('/')}/runs/{key}"


def split_bucket(url: str) -> tuple[str, str]:
    """s3://team/mlws -> (s3://team, mlws): the bucket SkyPilot mounts, and the folder in it."""
    scheme, _, rest = url.rstrip("/").partition("://")
    name, _, prefix = rest.partition("/")
    return f"{scheme}://{name}", prefix


def remote_run_dir(spec) -> str:
    """Where the run directory lives on the node: its folder in the mounted bucket, else under the workdir."""
    c = spec.config["compute"]
    if not c.get("bucket"):
        return f"runs/{spec.run_id if spec.run_id is not None else 'N'}"
    root, _ = split_bucket(c["bucket"])
    return REMOTE_BUCKET_DIR + bucket_run_url(c["bucket"], spec)[len(root):]


def compile_task(spec, spec_path: str | os.PathLike | None = None, wheel: str | os.PathLike | None = None) -> dict:
    """The SkyPilot task for this run. Secrets appear by name only (values are added at launch).
    `wheel`: this machine's mlws as a wheel (wheel.build()), mounted for the node to install."""
    c = spec.config["compute"]
    run_id = spec.run_id if spec.run_id is not None else "N"
    resources = {k: c[k] for k in RESOURCE_KEYS if c.get(k) is not None and c.get(k) is not False}
    if c.get("managed"):
        # Spot preemptions and node failures: SkyPilot relaunches, the worker resumes from last.ckpt.
        resources["job_recovery"] = {"strategy": "EAGER_NEXT_REGION", "max_restarts_on_errors": 2}
    elif c.get("autostop_minutes") is not None:
        # down: an idle cluster is deleted, not stopped (a stopped VM keeps billing for its disk)
        resources["autostop"] = {"idle_minutes": int(c["autostop_minutes"]), "down": True}
    envs = {str(k): str(v) for k, v in (c.get("env") or {}).items()}
    envs.update({"MLWS_REMOTE": "1", "MLWS_RUN_ID": str(run_id), "MLWS_RUN_DIR": remote_run_dir(spec),
                 "WANDB_MODE": os.environ.get("WANDB_MODE", "") or "auto"})
    if envs["WANDB_MODE"] == "auto":
        del envs["WANDB_MODE"]
    wheel_mounts, setup = _node_install(c, spec.versions, wheel)
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
        "name": f"mlws-{run_id}" + (f"-{spec.experiment}".replace("_", "-") if spec.experiment else ""),
        "workdir": spec.workspace,
        "num_nodes": int(c.get("num_nodes") or 1),
        "resources": resources,
        "envs": envs,
        "file_mounts": file_mounts,
        "setup": setup,
        # The same worker the local backend runs, on the same frozen spec: no Hydra on the node.
        "run": f"python -m mlws.worker {REMOTE_SPEC}",
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


def _node_install(c: dict, versions: dict, wheel) -> tuple[dict, str]:
    """(file mounts, setup) that install this machine's torch and mlws (`wheel`) on a node."""
    mounts = {f"{REMOTE_DIST}/{Path(wheel).name}": str(wheel)} if wheel else {}
    return mounts, _setup(c, versions, Path(wheel).name if wheel else None)


def _setup(c: dict, versions: dict, wheel_name: str | None) -> str:
    lines = []
    torch = (versions or {}).get("torch", "").split("+")[0]  # the laptop's torch, built for this node
    if torch:
        index = torch_index(c)
        lines.append(f"pip install torch=={torch}" + (f" --index-url {index}" if index else ""))
    # the node runs the laptop's own mlws (a wheel of it, mounted), then the workspace's project if it has one
    lines.append(f"pip install {REMOTE_DIST}/{wheel_name}" if wheel_name else
                 "if [ ! -f pyproject.toml ] && [ ! -f setup.py ]; then pip install mlws; fi")
    lines += ["if [ -f pyproject.toml ] || [ -f setup.py ]; then pip install -e .; fi",
              "if [ -f requirements.txt ]; then pip install -r requirements.txt; fi"]
    if c.get("pip"):
        lines.append("pip install " + " ".join(shlex.quote(str(p)) for p in c["pip"]))
    lines += [str(cmd) for cmd in c.get("setup") or []]
    body = "\n".join(lines)
    limit = c.get("setup_timeout_minutes")
    if not limit:
        return f"set -e\n{body}\n"
    # a hung install (a mirror that never answers) must not keep a GPU VM billing: cut it off. The
    # script is an argument, not stdin: a command that reads stdin must not swallow the rest of it.
    return f"set -e\ntimeout {int(limit)}m bash -e -c {shlex.quote(body)} </dev/null\n"


# GPUs whose kernels need CUDA 12.8 or newer (Blackwell); every other NVIDIA GPU SkyPilot offers
# (V100 and P100 included, which CUDA 13 builds no longer support) runs the CUDA 12.6 build on the
# 12.x drivers of SkyPilot's images.
_CUDA_12_8 = ("B100", "B200", "GB200", "RTX5090", "RTXPRO6000")
TORCH_INDEX = "https://download.pytorch.org/whl/{}"


def torch_index(c: dict) -> str | None:
    """Where the node's torch comes from: compute.torch_index = auto (by accelerator), pypi (the
    index pip is configured with; PyPI's default torch is a CUDA 13 build), or a URL."""
    choice = c.get("torch_index") or "auto"
    if choice == "pypi":
        return None
    if choice != "auto":
        return str(choice)
    names = accelerator_names(c.get("accelerators"))
    if not names:
        return TORCH_INDEX.format("cpu")
    return TORCH_INDEX.format("cu128" if any(n.upper().startswith(_CUDA_12_8) for n in names) else "cu126")


def accelerator_names(accelerators) -> list[str]:
    """V100:2 -> [V100]; {A100: 8} -> [A100]; [V100, T4] -> both."""
    if not accelerators:
        return []
    if isinstance(accelerators, dict):
        return [str(k) for k in accelerators]
    if isinstance(accelerators, (list, tuple)):
        return [n for a in accelerators for n in accelerator_names(a)]
    return [str(accelerators).split(":")[0].strip()]


def secret_values(c: dict, environ=os.environ) -> dict:
    """The secrets' values, from this machine's environment, for the launch only."""
    missing = [n for n in c.get("secrets") or [] if n not in environ]
    if missing:
        raise MlwsError(f"compute.secrets: {', '.join(missing)} not set in this environment")
    return {n: environ[n] for n in c.get("secrets") or []}


def compile_serve_task(compute: dict, workspace: str, run_id: int, args_path: str, checkpoint: str,
                       port: int, token: bool = False, wheel=None) -> dict:
    """A SkyPilot task that serves a run's model on a VM: the port opened, and a lifetime limit
    (autostop that does not wait for the always-running server job), so no demo runs forever.
    `token`: the server requires the run's bearer token, given at launch as the MLWS_SERVE_TOKEN secret."""
    resources = {k: compute[k] for k in RESOURCE_KEYS if compute.get(k) is not None and compute.get(k) is not False}
    resources["ports"] = [int(port)]
    lifetime = int(compute.get("max_runtime_minutes") or 240)
    resources["autostop"] = {"idle_minutes": lifetime, "wait_for": "none", "down": True}
    mounts, setup = _node_install(compute, package_versions(), wheel)
    return {
        "name": f"mlws-serve-{run_id}",
        "workdir": workspace,
        "resources": resources,
        "envs": {str(k): str(v) for k, v in (compute.get("env") or {}).items()},
        "file_mounts": {"/mlws/serve-args.json": args_path, f"/mlws/checkpoint{Path(checkpoint).suffix}": checkpoint,
                        **mounts},
        "setup": setup,
        "run": "python -m mlws.serving.server /mlws/serve-args.json",
        **({"secrets": {"MLWS_SERVE_TOKEN": None}} if token else {}),  # the value is added at launch
    }


NOTEBOOK_WORK = "/mlws-work"  # persistent: a bucket mounted with SkyPilot's cached mode


def compile_notebook_task(compute: dict, workspace: str, name: str, port: int, idle_minutes: float,
                          expose: bool, storage_name: str, wheel=None) -> dict:
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
    mounts, setup = _node_install(compute, package_versions(), wheel)
    run = (f"mkdir -p {shlex.quote(work)} && ln -sfn {shlex.quote(work)} work && "
           f"python -m mlws.cli.main notebook compute=local --name {shlex.quote(name)} "
           f"--host {host} --port {int(port)} --idle-minutes {float(idle_minutes)} --token-env MLWS_NOTEBOOK_TOKEN")
    return {
        "name": f"mlws-notebook-{name}",
        "workdir": workspace,
        "resources": resources,
        "envs": {str(k): str(v) for k, v in (compute.get("env") or {}).items()},
        "file_mounts": {NOTEBOOK_WORK: storage, **mounts},
        "setup": setup,
        "run": run,
        "secrets": {"MLWS_NOTEBOOK_TOKEN": None},  # the value is added at launch, never written here
    }
