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
        # a plain name only: `/x/y` is another config group's path, and pathlib would let an absolute
        # one replace the folder (a branch's entry must never make mlws read the machine's files)
        if (
            isinstance(entry, str)
            and entry != "_self_"
            and is_plain_name(entry)
            and (ws.experiments_dir / f"{entry}.yaml").is_file()
        ):
            return entry
    return None


def is_plain_name(entry: str) -> bool:
    """Pure: a file name in one folder (no separator, no `..`, nothing absolute)."""
    return bool(entry) and "/" not in entry and "\\" not in entry and entry not in (".", "..")


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
