"""Overrides -> validated, frozen RunSpec (no run recorded, nothing imported from user code)."""

from __future__ import annotations

import shlex
import sys
from datetime import datetime, timezone

from .config import compose
from .experiments import builds_on
from .provenance import git_state, package_versions
from .spec import RunSpec
from .validate import validate
from .workspace import Workspace


def plan(ws: Workspace, overrides: list[str], command: str | None = None) -> tuple[RunSpec, str]:
    """The RunSpec for these overrides and the workspace's uncommitted patch; raises MlwsError."""
    overrides = list(overrides)
    composed = compose(ws, overrides)
    validate(ws, composed, overrides)
    git = git_state(ws.root)
    patch = git.pop("patch")
    spec = RunSpec(
        experiment=composed.experiment,
        overrides=tuple(overrides),
        config=composed.config,
        workspace=str(ws.root),
        command=command or shlex.join(["mlws", *sys.argv[1:]]),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        git=git,
        versions=package_versions(),
        builds_on=builds_on(ws, composed.experiment),
    )
    return spec, patch
