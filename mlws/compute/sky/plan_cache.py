"""A plan's SkyPilot verdict (the task passed SkyPilot's validation; the optimizer's choice and
price), kept in the workspace's .mlws/cache for a repeated plan of the same task: importing SkyPilot
and running its optimizer is most of a cloud plan's time (issue 24).

The key is everything the verdict depends on that mlws can see without SkyPilot: the compiled task,
SkyPilot's version, its catalog and config files and state database (which clouds `sky check`
enabled), the cloud credential files and environment variables SkyPilot reads. Entries expire after
TTL_S so a change these miss (a cloud account's regions) is seen within the hour. Only a price the
optimizer gave on this machine is kept; a launch always asks SkyPilot again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

TTL_S = 3600.0
# the files SkyPilot's verdict depends on, under the SkyPilot home ($SKY_RUNTIME_DIR or ~)
SKY_FILES = (".sky/catalogs", ".sky/config.yaml", ".sky/state.db")
CREDENTIALS = (
    ".aws/config",
    ".aws/credentials",
    ".azure/azureProfile.json",
    ".kube/config",
    ".config/gcloud/configurations",
    ".config/gcloud/application_default_credentials.json",
    ".lambda_cloud",
)
ENV_PREFIXES = ("SKYPILOT_", "SKY_", "AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_", "KUBECONFIG")


def key(task_config: dict, max_runtime_minutes, workspace: Path) -> str:
    """A hash of the task and of the state of every input above (file sizes and mtimes)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        sky_version = version("skypilot")
    except PackageNotFoundError:
        sky_version = None
    sky_home = Path(os.path.expanduser(os.environ.get("SKY_RUNTIME_DIR", "~")))
    home = Path.home()
    watched = [sky_home / p for p in SKY_FILES] + [home / p for p in CREDENTIALS] + [workspace / ".sky.yaml"]
    for var in ("SKYPILOT_GLOBAL_CONFIG", "SKYPILOT_PROJECT_CONFIG"):
        if os.environ.get(var):
            watched.append(Path(os.path.expanduser(os.environ[var])))
    state = {
        "task": task_config,
        "max_runtime_minutes": max_runtime_minutes,
        "skypilot": sky_version,
        "files": [_stat(p) for p in watched],
        "env": sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _stat(path: Path) -> list:
    """[path, size, mtime] of a file, or of every file under a folder; [path] when there is none."""
    if path.is_dir():
        return [_stat(p) for p in sorted(path.rglob("*")) if p.is_file()]
    try:
        s = path.stat()
    except OSError:
        return [str(path)]
    return [str(path), s.st_size, s.st_mtime_ns]


def _path(cache_dir: Path, digest: str) -> Path:
    return cache_dir / "sky-plan" / f"{digest}.json"


def load(cache_dir: Path, digest: str) -> dict | None:
    """The estimate kept under this key, with its age in seconds as "reused_after_s"; None when
    there is none, or it is older than TTL_S, or unreadable."""
    path = _path(cache_dir, digest)
    try:
        entry = json.loads(path.read_text())
        age = time.time() - float(entry["at"])
        estimate = dict(entry["estimate"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not 0 <= age < TTL_S:
        return None
    return {**estimate, "reused_after_s": round(age)}


def store(cache_dir: Path, digest: str, estimate: dict) -> None:
    """Keep a price the optimizer gave here; never an unavailable one (credentials may be fixed
    next) nor a remote API server's (its clouds and catalog are not watched here)."""
    if not estimate.get("available") or estimate.get("priced_by"):
        return
    path = _path(cache_dir, digest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"at": time.time(), "estimate": estimate}))
        os.replace(tmp, path)  # atomic: a concurrent plan reads a whole entry or none
    except OSError:
        pass  # a read-only workspace: the next plan asks SkyPilot again
