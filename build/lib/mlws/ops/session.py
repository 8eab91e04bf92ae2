"""One registry per command: opened (and its schema checked) once per process and workspace.

Each call also marks failed the local runs whose process is gone (cheap: this machine only). It never
asks a remote backend: refreshing remote status is explicit (`refresh_status`) and bounded.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..workspace import Workspace, find_workspace

_OPEN: dict[str, object] = {}


@dataclass(frozen=True)
class Session:
    workspace: Workspace
    registry: object


def workspace_of(workspace) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else find_workspace(workspace)


def session(workspace=None) -> Session:
    from ..registry import open_registry
    ws = workspace_of(workspace)
    url = ws.registry_url
    registry = _OPEN.get(url)
    if registry is None or (url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///"):])):
        registry = open_registry(url)
        _OPEN[url] = registry
    registry.reap_dead()  # every call: a long `watch` or a notebook must see a run's process die
    return Session(ws, registry)


MAX_REFRESH = 50  # runs asked about per refresh: a long-forgotten backlog must not stall a command


def refresh_status(registry, records: list[dict], workspace=None) -> list[str]:
    """Ask each running remote run's backend for its status and record final ones.

    Returns one warning per run whose backend could not answer (the run stays as recorded)."""
    from ..compute import backend_for
    from ..errors import MlwsError
    warnings = []
    from ..registry.liveness import owned_here
    remote = [r for r in records if r["status"] == "running" and not owned_here(r)]
    for summary in remote[-MAX_REFRESH:]:
        record = registry.get(summary["id"])  # in full: the backend reads the run's config
        try:
            state = backend_for(record, workspace).status(record)
        except MlwsError as e:
            warnings.append(f"run {record['id']}: status unknown ({e})")
            continue
        # re-read: a worker on a shared machine may have recorded the outcome meanwhile
        if state is not None and state.final and registry.get(record["id"])["status"] == "running":
            registry.finish(record["id"], state.status, metrics=state.metrics,
                            artifacts=state.artifacts,
                            error=state.error, stop_reason=state.stop_reason)
    return warnings
