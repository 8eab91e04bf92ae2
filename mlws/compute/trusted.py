"""Which backend a recorded state file (a server's, a notebook's) may have mlws build: state files
sit under .mlws/, which a branch can force-add, and building a backend imports its `_target_`. So
only mlws's own backends, or one the workspace's own conf/compute/*.yaml names (read as text,
nothing imported), are accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import LEGACY_TARGETS


def known_targets(workspace_root: Path) -> set[str]:
    """Backends a state file may name: mlws's own, and those the workspace's conf/compute/*.yaml
    names (read as text, nothing imported)."""
    import yaml

    out = set(LEGACY_TARGETS.values())
    packaged = Path(__file__).resolve().parent.parent / "conf" / "compute"
    for folder in (packaged, Path(workspace_root) / "conf" / "compute"):
        for f in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            try:
                node = yaml.safe_load(f.read_text())
            except (OSError, yaml.YAMLError):
                continue
            if isinstance(node, dict) and isinstance(node.get("_target_"), str):
                out.add(node["_target_"])
    return out


def compute_error(compute: Any, workspace_root: Path) -> str | None:
    """Why a recorded compute node may not be built; None when its backend is a known one."""
    if compute is None:
        return None
    if not isinstance(compute, dict):
        return "its compute is not a mapping"
    target = compute.get("_target_")
    if target is None:  # a state from before `_target_`: only the names mlws always had
        backend = compute.get("backend")
        return None if backend is None or backend in LEGACY_TARGETS else "its backend is unknown"
    if not isinstance(target, str) or target not in known_targets(workspace_root):
        return f"its compute._target_ {str(target)[:80]!r} is neither mlws's nor in conf/compute"
    return None
