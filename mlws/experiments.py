"""Experiment files as files: which earlier experiment each builds on, without Hydra."""
from __future__ import annotations

from pathlib import Path

from .workspace import Workspace


def load_yaml(path: Path) -> dict:
    from .yaml_read import read_yaml
    data = read_yaml(path.read_text()) or {}
    return data if isinstance(data, dict) else {}


def builds_on(ws: Workspace, name: str | None) -> str | None:
    """The experiment named first in `name`'s defaults list, if it is an experiment file."""
    if not name:
        return None
    path = ws.experiments_dir / f"{name}.yaml"
    if not path.is_file():
        return None
    for entry in load_yaml(path).get("defaults", []):
        if isinstance(entry, str) and entry != "_self_" and (ws.experiments_dir / f"{entry}.yaml").is_file():
            return entry
    return None


def chain(ws: Workspace, name: str | None) -> list[Path]:
    """The experiment's file and the files it builds on, oldest first."""
    files: list[Path] = []
    while name and len(files) < 100:
        path = ws.experiments_dir / f"{name}.yaml"
        if not path.is_file() or path in files:
            break
        files.insert(0, path)
        name = builds_on(ws, name)
    return files


def links(ws: Workspace) -> dict[str, str | None]:
    """{experiment: the experiment it builds on} for every experiment file of the workspace."""
    return {name: builds_on(ws, name) for name in ws.experiment_names()}
