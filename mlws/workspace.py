"""Where a workspace's configs, experiments, registry and run directories live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import MlwsError

STATE_DIR = ".mlws"
# mlws's own building blocks (Hydra finds them at pkg://mlws.conf, after the workspace's conf/)
PACKAGED_CONF = Path(__file__).resolve().parent / "conf"
PACKAGED_SEARCHPATH = "pkg://mlws.conf"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def experiments_dir(self) -> Path:
        return self.root / "experiments"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def registry_url(self) -> str:
        """MLWS_REGISTRY_URL chooses another registry; the default is SQLite in the workspace."""
        return os.environ.get("MLWS_REGISTRY_URL") or f"sqlite:///{self.state_dir / 'registry.db'}"

    def group_dirs(self, group: str) -> list[Path]:
        """The folders holding a config group's options: the workspace's, then mlws's own."""
        return [d for d in (self.conf_dir / group, PACKAGED_CONF / group) if d.is_dir()]

    def is_group(self, group: str) -> bool:
        return (
            bool(group) and not group.startswith(("hydra", "_")) and "." not in group and bool(self.group_dirs(group))
        )

    def experiment_names(self) -> list[str]:
        return sorted(p.stem for p in self.experiments_dir.glob("*.yaml"))


def find_workspace(start: str | os.PathLike | None = None) -> Workspace:
    """The nearest folder at or above `start` (or MLWS_WORKSPACE) holding conf/config.yaml."""
    explicit = os.environ.get("MLWS_WORKSPACE")
    here = Path(start or explicit or os.getcwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "conf" / "config.yaml").is_file():
            return Workspace(candidate)
    raise MlwsError(
        f"no mlws workspace at or above {here} (looked for conf/config.yaml); "
        "run mlws from a workspace or set MLWS_WORKSPACE"
    )
