"""Mirror labels and notes to W&B for runs that were logged online (the registry stays the record)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def wandb_path(record: Mapping[str, Any]) -> str | None:
    w = (record.get("artifacts") or {}).get("wandb") or {}
    if w.get("mode") != "online" or not w.get("id"):
        return None
    return "/".join(p for p in (w.get("entity"), w.get("project"), w["id"]) if p)


def merged_tags(current, add=(), remove=()) -> list[str]:
    """The W&B run's tags with labels added and removed; every other tag stays, in its order."""
    out = [t for t in current or () if t not in remove]
    return out + [t for t in add if t not in out]


def mirror(record: Mapping[str, Any], add_tags=(), remove_tags=(), notes: str | None = None, api_factory=None) -> bool:
    """Merge label changes into the W&B run's tags / set its notes; False when offline or unreachable
    (the registry change stands either way)."""
    path = wandb_path(record)
    if path is None:
        return False
    try:
        if api_factory is None:
            import wandb

            api_factory = lambda: wandb.Api(timeout=10)
        run = api_factory().run(path)
        if add_tags or remove_tags:
            run.tags = merged_tags(run.tags, add_tags, remove_tags)
        if notes is not None:
            run.notes = notes
        run.update()
        return True
    except Exception as e:  # W&B is only a mirror: say so, never fail the registry write
        import sys

        print(f"warning: could not mirror to W&B run {path}: {type(e).__name__}: {e}", file=sys.stderr)
        return False
