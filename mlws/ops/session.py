"""One registry per command: opened (and its schema checked) once per process and workspace.

Each call also marks failed the local runs whose process is gone (cheap: this machine only). It never
asks a remote backend: refreshing remote status is explicit (mlws/lifecycle.py's `refresh_status`)
and bounded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..workspace import Workspace, find_workspace

if TYPE_CHECKING:  # the registry is imported when a session opens one
    from ..registry import Registry

_OPEN: dict[str, Registry] = {}


@dataclass(frozen=True)
class Session:
    workspace: Workspace
    registry: Registry


def workspace_of(workspace) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else find_workspace(workspace)


def session(workspace=None) -> Session:
    from ..registry import open_registry

    ws = workspace_of(workspace)
    url = ws.registry_url
    registry = _OPEN.get(url)
    if registry is None or (url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///") :])):
        registry = open_registry(url)
        _OPEN[url] = registry
    registry.reap_dead()  # every call: a long `watch` or a notebook must see a run's process die
    return Session(ws, registry)
