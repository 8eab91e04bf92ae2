"""Compute backends: where a run's worker executes. Chosen by `_target_` in conf/compute/NAME.yaml.

Built-in: local (this machine), ray (a Ray cluster through its Jobs API), sky (SkyPilot).
Each backend module imports its heavy library (ray, sky) only inside the methods that need it.
"""

from __future__ import annotations

import sys

from ..errors import MlwsError
from ..targets import load_class
from .base import Backend, Status, Submission

# Runs recorded before backends were chosen by `_target_` named them with `backend: NAME`.
LEGACY_TARGETS = {
    "local": "mlws.compute.local.LocalBackend",
    "sky": "mlws.compute.sky.SkyBackend",
    "ray": "mlws.compute.ray.RayBackend",
}

__all__ = ["Backend", "Status", "Submission", "backend_class", "get_backend", "backend_for"]


def backend_class(compute: dict, workspace=None) -> type[Backend]:
    """The Backend subclass a compute config names with `_target_`; a clear error otherwise.
    `workspace`: its root is importable, so a backend can live in the team's own package."""
    target = compute.get("_target_") or LEGACY_TARGETS.get(str(compute.get("backend", "local")))
    if not target:
        raise MlwsError("compute: no `_target_` naming a backend class (e.g. mlws.compute.local.LocalBackend)")
    module_name, _, cls_name = str(target).rpartition(".")
    if workspace is not None and str(workspace) not in sys.path and not module_name.startswith("mlws."):
        sys.path.insert(0, str(workspace))
    cls = load_class(target, "compute._target_")
    if not issubclass(cls, Backend):
        raise MlwsError(f"compute._target_: {target!r} is not a subclass of mlws.compute.Backend")
    if cls.extra:
        from ..extras import require

        require(cls.extra, f"compute={cls.name}")
    return cls


def get_backend(compute: dict, workspace=None) -> Backend:
    """The backend for a run's `compute` config node."""
    compute = dict(compute or {})
    cls = backend_class(compute, workspace)
    compute.pop("_target_", None)
    return cls(compute)


def backend_for(record: dict, workspace=None) -> Backend:
    """The backend a recorded run went to, built from its recorded config."""
    compute = dict(((record.get("config") or {}).get("compute")) or {})
    if not compute.get("_target_") and record.get("backend") in LEGACY_TARGETS:
        compute["_target_"] = LEGACY_TARGETS[record["backend"]]
    return get_backend(compute, workspace)
