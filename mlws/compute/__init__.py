"""Backends that execute the worker for a RunSpec: local now; Ray and SkyPilot share the Protocol."""
from __future__ import annotations

from ..errors import MlwsError
from .base import Backend


def get_backend(name: str) -> Backend:
    if name == "local":
        from .local import LocalBackend
        return LocalBackend()
    if name == "sky":
        from .sky import SkyBackend
        return SkyBackend()
    raise MlwsError(f"unknown compute backend {name!r} (available: local, sky)")
