"""What matters for a run, from its own config: `monitor.metric` and its `mode`, and `monitor.loss`
(the loss to watch, if the run has one). Nothing here knows a metric's name. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def monitor_of(record_or_config: Mapping[str, Any]) -> dict:
    """{metric, mode, loss} of a registry record (its `monitor` summary or config) or of a config."""
    m = record_or_config.get("monitor") or (record_or_config.get("config") or {}).get("monitor") or {}
    return {"metric": m.get("metric"), "mode": m.get("mode") or "max", "loss": m.get("loss")}


def shown_metrics(record_or_config: Mapping[str, Any]) -> tuple[str, ...]:
    """The metrics a one-line view shows for a run: its key metric, then its loss."""
    m = monitor_of(record_or_config)
    return tuple(k for k in (m["metric"], m["loss"]) if k)


def watched(record_or_config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(metric, mode) whose lack of improvement is worth a warning: the loss (min), else the key metric."""
    m = monitor_of(record_or_config)
    if m["loss"]:
        return m["loss"], "min"
    return (m["metric"], m["mode"]) if m["metric"] else None
