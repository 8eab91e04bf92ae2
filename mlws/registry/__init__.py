"""The run registry: the source of truth for every run (W&B only mirrors it).

SQLite in the workspace by default; a team shares one on PostgreSQL by setting
MLWS_REGISTRY_URL=postgresql://user:pass@host/db (or `registry_url:` in the workspace's conf/).
"""

from __future__ import annotations

from .records import RunRecord, RunStore
from .store import Registry

STATUSES = ("running", "succeeded", "failed", "stopped")
__all__ = ["Registry", "RunRecord", "RunStore", "STATUSES", "open_registry"]


def open_registry(url: str) -> Registry:
    from .dialects import dialect_for

    return Registry(dialect_for(url))
