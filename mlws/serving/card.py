"""A run's card for its demo page: experiment, what changed from its lineage parent, the key metric,
labels and note. Plain data, made where the registry is (app_args' caller) and shipped in the args."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..history.diff import change_lines, config_diff
from ..keymetric import monitor_of

MAX_CHANGES = 12


def run_card(record: dict, parent: Mapping[str, Any] | None, replicates: str | None = None) -> dict:
    """`replicates`: the key metric over the run's replicate group (mean ± sd [95% CI]), if it has one."""
    monitor = monitor_of(record)
    metric = monitor["metric"]
    changes = (
        change_lines(config_diff(parent.get("config"), record.get("config")), ignore=("description",)) if parent else []
    )
    return {
        "run_id": record["id"],
        "experiment": record.get("experiment"),
        "description": (record.get("config") or {}).get("description"),
        "parent": parent["id"] if parent else None,
        "parent_experiment": parent.get("experiment") if parent else None,
        "changes": changes[:MAX_CHANGES],
        "more_changes": max(0, len(changes) - MAX_CHANGES),
        "metric": metric,
        "mode": monitor["mode"],
        "value": (record.get("metrics") or {}).get(metric),
        "parent_value": (parent.get("metrics") or {}).get(metric) if parent else None,
        "labels": record.get("labels") or [],
        "note": record.get("note") or "",
        "replicates": replicates,
    }
