"""The run registry: the source of truth for every run (W&B only mirrors it)."""
from __future__ import annotations

from ..errors import MlwsError
from .sqlite import SqliteRegistry

STATUSES = ("running", "succeeded", "failed", "stopped")


def open_registry(url: str) -> SqliteRegistry:
    """A registry for `url`; sqlite:///PATH is the default, kept inside the workspace."""
    if url.startswith("sqlite:///"):
        return SqliteRegistry(url.removeprefix("sqlite:///"))
    raise MlwsError(f"unsupported registry URL {url!r} (expected sqlite:///PATH)")
