"""Lineage queries over the registry: the chain root → run, the best run, the whole tree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..monitor.data_seen import data_record, data_text
from .diff import change_lines, config_diff, data_diff, data_line, delta

LOWER_IS_BETTER = ("loss", "err", "mse", "mae", "perplexity")


def metric_mode(metric: str) -> str:
    return "min" if any(word in metric.lower() for word in LOWER_IS_BETTER) else "max"


def key_metric(record: Mapping[str, Any]) -> str | None:
    from ..keymetric import monitor_of

    return monitor_of(record)["metric"]


def _data_change(previous: Mapping[str, Any] | None, record: Mapping[str, Any]) -> list[str]:
    """`data: changed (…)` when the step's data fingerprint differs from its parent's: a change too."""
    data = data_diff(previous, record) if previous else {"changed": False}
    return [data_line({"data": data})] if data["changed"] else []


def steps(records: Sequence[Mapping[str, Any]], metric: str | None = None) -> list[dict]:
    """One step per record (root first), each against the one before it (its parent)."""
    out, previous = [], None
    for record in records:
        m = metric or key_metric(record)
        value = (record.get("metrics") or {}).get(m)
        before = (previous.get("metrics") or {}).get(m) if previous else None
        changes = (
            config_diff(previous["config"], record["config"])
            if previous
            else {"changed": {}, "added": {}, "removed": {}}
        )
        out.append(
            {
                "id": record["id"],
                "experiment": record.get("experiment"),
                "parent": record.get("parent_id"),
                "status": record.get("status"),
                "labels": record.get("labels") or [],
                "note": record.get("note") or "",
                "description": (record.get("config") or {}).get("description"),
                "changes": changes,
                "summary": change_lines(changes, ignore=("description",)) + _data_change(previous, record),
                "data": data_text(record),  # the fingerprint of the data it saw, or why there is none
                "data_digest": data_record(record).get("digest"),
                "metrics": record.get("metrics") or {},
                "metric": m,
                "value": value,
                "delta": delta(before, value),
            }
        )
        previous = record
    return out
