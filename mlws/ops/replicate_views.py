"""Replicate groups where metrics are compared: `show` (the run's group), `runs` (each group shown),
`diff` and each `lineage` step (the difference between two groups with its interval and the verdict
in words) and `lineage --best` (groups ranked by their mean; are the top two distinguishable?).
Nothing changes for a registry without replicate groups (one query finds there are none)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..history.groups import comparison, group_ids, group_runs, summary

if TYPE_CHECKING:
    from ..registry import Registry, RunRecord


def group_of_record(registry: Registry, record: Mapping[str, Any], groups: set[int] | None = None) -> dict | None:
    """The summary of the replicate group this run belongs to (by its own key metric), or None."""
    groups = group_ids(registry) if groups is None else groups
    g = record.get("sweep_id")
    if g is None or g not in groups:
        return None
    return summary(g, group_runs(registry, g), (record.get("monitor") or {}).get("metric"))


def side(registry: Registry, record: Mapping[str, Any], groups: set[int], metric: str | None = None) -> dict:
    g = record.get("sweep_id") if record.get("sweep_id") in groups else None
    return summary(g, group_runs(registry, g) if g is not None else [record], metric)


def diff(registry: Registry, a: Mapping[str, Any], b: Mapping[str, Any]) -> dict | None:
    """{"a": side, "b": side, "comparison"} when either run is in a replicate group; else None."""
    groups = group_ids(registry)
    if not groups or (a.get("sweep_id") not in groups and b.get("sweep_id") not in groups):
        return None
    metric = (b.get("monitor") or {}).get("metric") or (a.get("monitor") or {}).get("metric")
    sa, sb = side(registry, a, groups, metric), side(registry, b, groups, metric)
    return {"metric": metric, "a": sa, "b": sb, "comparison": comparison(sa, sb)}


def chain(registry: Registry, steps: list[dict], ranking: dict | None = None) -> list[dict]:
    """Each lineage step gets `replicates`: {group (its summary), same_group_as_previous,
    vs_previous (the comparison with the step before, when either is a group)}; the last step also
    gets `best_groups` from `lineage --best`. Steps are untouched when there are no groups."""
    groups = group_ids(registry)
    if not groups and ranking is None:
        return steps
    records = {r["id"]: r for r in registry.list(ids=[s["id"] for s in steps])} if steps else {}
    previous: dict | None = None  # the summary of the step before (its group's, or its own run's)
    previous_group = None
    for step in steps:
        record: dict[str, Any] = {
            **(records.get(step["id"]) or {"id": step["id"]}),
            "status": step.get("status"),
            "metrics": step.get("metrics"),
        }
        here = side(registry, record, groups, step.get("metric"))
        same = here["group"] is not None and here["group"] == previous_group
        vs = None
        if previous is not None and not same and (here["n"] > 1 or previous["n"] > 1):
            vs = comparison(previous, here)
        if here["group"] is not None or (previous or {}).get("group") is not None:
            _without_seed(step)  # replicates of a group differ in seed by design: not a change of the step
        step["replicates"] = {
            "group": here if here["group"] is not None else None,
            "same_group_as_previous": same,
            "vs_previous": vs,
        }
        if not same:
            previous, previous_group = here, here["group"]
    if steps and ranking is not None:
        steps[-1]["best_groups"] = ranking
    return steps


def _without_seed(step: dict) -> None:
    from ..history.groups import SEED_KEY

    for part in ("changed", "added", "removed"):
        (step.get("changes") or {}).get(part, {}).pop(SEED_KEY, None)
    step["summary"] = [line for line in step.get("summary") or [] if not line.lstrip("+- ").startswith(f"{SEED_KEY}:")]


def best_groups(registry: Registry, metric: str, mode: str | None, *, shown: int = 5) -> dict | None:
    """Replicate groups (and single runs outside any) ranked by their mean of `metric`, best first:
    {"metric", "mode", "ranking": [summary, ...] (the first `shown`), "top_two": comparison of the
    runner-up with the best, "target": the run the lineage leads to}. None without groups."""
    from ..history.chain import metric_mode
    from ..stats import rank

    groups = group_ids(registry)
    if not groups:
        return None
    if mode is None:
        declared = registry.declared_modes(metric)
        mode = declared.pop() if len(declared) == 1 else metric_mode(metric)
    members: dict[tuple[str, int | None], list[RunRecord]] = {}  # ("group", id) or ("run", id)
    for r in registry.list(status="succeeded"):
        key = ("group", r["sweep_id"]) if r.get("sweep_id") in groups else ("run", r["id"])
        members.setdefault(key, []).append(r)
    sides = {
        key: summary(key[1] if key[0] == "group" else None, runs, metric) | {"mode": mode}
        for key, runs in members.items()
    }
    sides = {k: s for k, s in sides.items() if s["n"]}
    if not sides:
        return None
    ranked = rank({k: s["values"] for k, s in sides.items()}, mode)["ranking"]
    order = [sides[k] for k, _ in ranked]
    top_two = comparison(order[1], order[0]) if len(order) > 1 else None
    return {
        "metric": metric,
        "mode": mode,
        "ranking": order[:shown],
        "top_two": top_two,
        "target": min(order[0]["runs"]),
    }
