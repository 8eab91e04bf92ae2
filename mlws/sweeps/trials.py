"""A sweep's trials: their identity (a hash of the effective config), what to do with each on a
resume, and the value each reports to the sweeper. Pure: the caller supplies the runs."""

from __future__ import annotations

import hashlib
import json


def trial_key(config: dict) -> str:
    """The trial's identity: the same effective config is the same trial, in any sweep run."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:20]


def decide(runs_of_key: list[dict]) -> tuple[str, dict | None]:
    """("done", run) when one succeeded, ("adopt", run) when one still runs (a driver that died left
    it going), else ("new", None): failed, stopped or never run."""
    ordered = sorted(runs_of_key, key=lambda r: r["id"])
    for status, action in (("succeeded", "done"), ("running", "adopt")):
        found = [r for r in ordered if r["status"] == status]
        if found:
            return action, found[-1]
    return "new", None


def value_of(record: dict, metric: str | None) -> float | None:
    """The objective a finished trial reports to the sweeper: its key metric, if it succeeded."""
    if record["status"] != "succeeded" or not metric:
        return None
    value = (record.get("metrics") or {}).get(metric)
    return float(value) if isinstance(value, (int, float)) else None
