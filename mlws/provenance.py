"""Where a run came from: the git state of the workspace and the versions of key packages."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

TRACKED_PACKAGES = (
    "mlws",
    "torch",
    "lightning",
    "pytorch-lightning",
    "hydra-core",
    "omegaconf",
    "wandb",
    "scikit-learn",
    "numpy",
    "skypilot",
    "ray",
)


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def git_state(root: Path) -> dict:
    """{commit, branch, dirty, patch, untracked}; commit is None outside a git repository."""
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "branch": None, "dirty": None, "patch": "", "untracked": []}
    patch = _git(root, "diff", "HEAD", "--binary") or ""
    untracked = (_git(root, "ls-files", "--others", "--exclude-standard") or "").split()
    branch = (_git(root, "rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None
    return {
        "commit": commit.strip(),
        "branch": branch,
        "dirty": bool(patch or untracked),
        "patch": patch,
        "untracked": untracked,
    }


def package_versions() -> dict:
    """Versions read from package metadata, without importing the packages."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions
