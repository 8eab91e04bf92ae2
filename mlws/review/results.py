"""`mlws diff --git REF --results`: the recorded results of each lineage step the branch shows.

For each listed experiment, the runs in the registry whose effective config is that experiment's on
each side of the step (ignoring `seed`, so a replicate group counts as one configuration): before is
REF's version of a changed experiment, or the experiment a new one builds on; after is the working
tree's. Only the raw values travel in the diff result: the comment job recomputes every summary and
test from them (markdown.py), so a forged artifact can claim numbers but never write text.

Opt-in: the registry is the one this process was pointed at (the workspace's, or MLWS_REGISTRY_URL),
never one a branch names, and a review job that has none simply leaves the flag off."""

from __future__ import annotations

import json

from ..keymetric import monitor_of
from .snapshot import PLACEHOLDER

NOT_WHAT_IS_LEARNT = ("seed", "description", "cost", "compute", "logger")  # where and how a run is kept
MAX_VALUES = 1000  # per side: comment.py refuses more


def attach(result: dict, registry, root: str, before: dict, after: dict) -> dict:
    """Adds `replicates` to each entry of `result["experiments"]` whose step has recorded results.
    before/after: the snapshots' {name: {"config", "error", "builds_on"}}; root: the workspace's path,
    shown as PLACEHOLDER in the snapshots' configs."""
    runs = index(registry.list(status="succeeded", with_config=True), root)
    for entry in result["experiments"]:
        entry["replicates"] = step_results(entry, runs, before, after, result["ref"])
    return result


def index(records: list[dict], root: str) -> dict[str, list[dict]]:
    """{canonical config (without what is not learnt): runs, oldest first}."""
    out: dict[str, list[dict]] = {}
    for r in sorted(records, key=lambda r: r["id"]):
        if r.get("config"):
            out.setdefault(canonical(r["config"], root), []).append(r)
    return out


def canonical(config: dict, root: str | None = None) -> str:
    text = json.dumps({k: v for k, v in config.items() if k not in NOT_WHAT_IS_LEARNT}, sort_keys=True, default=str)
    # the snapshots show the checkout's path as PLACEHOLDER; a run records the real one
    return text.replace(json.dumps(root)[1:-1], PLACEHOLDER) if root else text


def step_results(entry: dict, runs: dict, before: dict, after: dict, ref: str = "base") -> dict | None:
    """{metric, mode, before: {label, runs, values}, after: {...}} or None when neither side has runs."""
    name = entry["experiment"]
    if entry["status"] in ("changed", "renamed"):
        left, label = before.get(entry["renamed_from"] or name), ref
    elif entry["status"] == "added" and entry.get("builds_on"):
        left, label = after.get(entry["builds_on"]), entry["builds_on"]
    else:
        return None
    right = after.get(name)
    if not right or not right.get("config"):
        return None
    mine = _one_per_seed(runs.get(canonical(right["config"]), []))
    theirs = _one_per_seed(runs.get(canonical(left["config"]), [])) if left and left.get("config") else []
    if not mine and not theirs:
        return None
    monitor = monitor_of(right["config"])
    metric = monitor["metric"]
    if not metric:
        return None
    return {
        "metric": str(metric),
        "mode": "min" if monitor["mode"] == "min" else "max",  # a branch's string is never shown as a word
        "before": _side(label, theirs, metric),
        "after": _side("this branch", mine, metric),
    }


def _one_per_seed(records: list[dict]) -> list[dict]:
    """The latest succeeded run of each seed: a rerun of the same seed is not another replicate."""
    by_seed = {r["config"].get("seed"): r for r in records}
    return sorted(by_seed.values(), key=lambda r: r["id"])


def _side(label: str, records: list[dict], metric: str) -> dict:
    ids, values = [], []
    for r in records[:MAX_VALUES]:
        v = (r.get("metrics") or {}).get(metric)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf"):
            ids.append(int(r["id"]))
            values.append(float(v))
    return {"label": label, "runs": ids, "values": values}
