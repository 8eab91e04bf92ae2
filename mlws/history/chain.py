"""Lineage queries over the registry: the chain root → run, the best run, the whole tree."""
from __future__ import annotations

from ..errors import MlwsError
from .diff import change_lines, config_diff, delta

LOWER_IS_BETTER = ("loss", "err", "mse", "mae", "perplexity")


def metric_mode(metric: str) -> str:
    return "min" if any(word in metric.lower() for word in LOWER_IS_BETTER) else "max"


def key_metric(record: dict) -> str | None:
    from .keymetric import monitor_of
    return monitor_of(record)["metric"]


def chain_ids(parents: dict[int, int | None], run_id: int) -> list[int]:
    if run_id not in parents:
        raise MlwsError(f"no run {run_id} in the registry")
    ids, seen = [run_id], {run_id}
    while (parent := parents.get(ids[-1])) is not None and parent not in seen:
        ids.append(parent)
        seen.add(parent)
    return ids[::-1]


def steps(records: list[dict], metric: str | None = None) -> list[dict]:
    """One step per record (root first), each against the one before it (its parent)."""
    out, previous = [], None
    for record in records:
        m = metric or key_metric(record)
        value = (record.get("metrics") or {}).get(m)
        before = (previous.get("metrics") or {}).get(m) if previous else None
        changes = config_diff(previous["config"], record["config"]) if previous else {"changed": {}, "added": {}, "removed": {}}
        out.append({
            "id": record["id"], "experiment": record.get("experiment"), "parent": record.get("parent_id"),
            "status": record.get("status"), "labels": record.get("labels") or [], "note": record.get("note") or "",
            "description": (record.get("config") or {}).get("description"),
            "changes": changes, "summary": change_lines(changes, ignore=("description",)),
            "metrics": record.get("metrics") or {}, "metric": m, "value": value,
            "delta": delta(before, value),
        })
        previous = record
    return out


def best_run(table: list[dict], metric: str, mode: str | None = None) -> int:
    """The best run by `metric`: `mode` as given, else as the runs that monitor this metric say,
    else guessed from its name (a loss or error is minimised)."""
    if mode is None:
        declared = {(r.get("monitor") or {}).get("mode") for r in table
                    if (r.get("monitor") or {}).get("metric") == metric} - {None}
        mode = declared.pop() if len(declared) == 1 else metric_mode(metric)
    scored = [(r["metrics"][metric], r["id"]) for r in table
              if isinstance((r.get("metrics") or {}).get(metric), (int, float))]
    if not scored:
        raise MlwsError(f"no succeeded run has the metric {metric!r}")
    pick = max if mode == "max" else min
    return pick(scored, key=lambda s: (s[0], s[1] if mode == "max" else -s[1]))[1]
