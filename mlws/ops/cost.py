"""Spend: each run's cost (its backend reckons it from the record, mlws/spend/reckon.py), and the
totals `mlws cost`, lineage and sweeps show. Everything here reads the registry alone: no cloud call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import MlwsError
from ..spend.query import cost_rows
from ..spend.reckon import add_up
from ..spend.runs import costs_by_id, run_cost
from .session import session

if TYPE_CHECKING:
    from ..registry import Registry

GROUPINGS = ("experiment", "label", "month", "backend")


def totals(by: str | None = None, *, workspace=None) -> dict:
    """{total, groups: [{key, usd, hours, runs, priced}]}: the spend of every recorded run, grouped
    by experiment, label (a run with two labels counts in both), month (of its start) or backend."""
    if by is not None and by not in GROUPINGS:
        raise MlwsError(f"--by {by!r}: choose one of {', '.join(GROUPINGS)}")
    registry = session(workspace).registry
    rows = cost_rows(registry)
    costs = costs_by_id(registry, rows)
    groups: dict[str, list[dict | None]] = {}
    for r in rows:
        for key in _keys(r, by):
            groups.setdefault(key, []).append(costs[r["id"]])
    return {
        "by": by,
        "total": add_up([*costs.values()]),
        "groups": [{"key": key, **add_up(cs)} for key, cs in sorted(groups.items())] if by else [],
    }


def _keys(record: Mapping[str, Any], by: str | None) -> list[str]:
    if by == "experiment":
        return [record.get("experiment") or "(no experiment)"]
    if by == "label":
        return list(record.get("labels") or []) or ["(no label)"]
    if by == "month":
        return [str(record.get("started_at") or record.get("created_at") or "")[:7] or "(unknown)"]
    if by == "backend":
        return [record.get("backend") or "(unknown)"]
    return ["all"]


def chain_costs(registry: Registry, chain: list[dict]) -> list[dict]:
    """Each lineage step with its run's cost and the cumulative cost to reach it: every run, up to
    that step's, of the experiments on the way there (failed tries, sweep trials and replicate seeds
    included); a step without an experiment counts its own run."""
    import bisect

    experiments = sorted({s["experiment"] for s in chain if s.get("experiment")})
    rows = cost_rows(registry, experiments=experiments)
    known = {r["id"] for r in rows}
    own = [r for r in cost_rows(registry, ids=[s["id"] for s in chain]) if r["id"] not in known]
    costs = costs_by_id(registry, rows + own)
    # per experiment: its runs' ids in order and running sums, so "its runs up to id N" is a bisect
    ids: dict[str, list[int]] = {}
    sums: dict[str, list[tuple[float, float, int, int]]] = {}
    for r in rows:
        c = costs[r["id"]]
        usd, hours, runs, priced = sums.setdefault(r["experiment"], [(0.0, 0.0, 0, 0)])[-1]
        ids.setdefault(r["experiment"], []).append(r["id"])
        sums[r["experiment"]].append(
            (
                usd + (c.get("usd") or 0.0),
                hours + (c.get("hours") or 0.0),
                runs + 1,
                priced + (c.get("usd") is not None),
            )
        )
    out = []
    reach: dict[str, int] = {}  # experiment → the newest step id its runs count up to
    loose: dict[int, dict | None] = {}
    for step in chain:
        if step.get("experiment"):
            reach.setdefault(step["experiment"], 0)
        for e in reach:  # each experiment on the way: its runs made before this step (or an earlier one)
            reach[e] = max(reach[e], step["id"])
        if step["id"] not in known:  # a step without an experiment counts its own run
            loose[step["id"]] = costs.get(step["id"])
        parts = [sums[e][bisect.bisect_right(ids[e], n)] for e, n in reach.items() if e in ids]
        rest = add_up(list(loose.values()))
        usd = sum(x[0] for x in parts) + (rest["usd"] or 0.0)
        priced = sum(x[3] for x in parts) + rest["priced"]
        total = {
            "usd": round(usd, 6) if priced else None,
            "hours": round(sum(x[1] for x in parts) + rest["hours"], 6),
            "runs": sum(x[2] for x in parts) + rest["runs"],
            "priced": priced,
        }
        out.append({**step, "cost": costs.get(step["id"]), "cumulative": total})
    return out


def sweep_costs(registry: Registry, view: dict) -> dict:
    """A sweep's view with each trial's cost and the sweep's total (every run it started)."""
    rows = cost_rows(registry, sweep_id=int(view["sweep"]["id"]))
    costs = costs_by_id(registry, rows)
    trials = [{**t, "cost": costs.get(t["run"])} for t in view["trials"]]
    return {**view, "trials": trials, "cost": add_up([*costs.values()])}


def cost_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict:
    """{usd: [a, b], hours: [a, b], delta_usd, delta_hours} of two full records (`mlws diff`)."""
    ca, cb = run_cost(a), run_cost(b)
    pair = lambda key: [ca.get(key), cb.get(key)]
    minus = lambda x, y: None if x is None or y is None else round(y - x, 6)
    return {
        "usd": pair("usd"),
        "hours": pair("hours"),
        "delta_usd": minus(ca.get("usd"), cb.get("usd")),
        "delta_hours": minus(ca.get("hours"), cb.get("hours")),
        "basis": pair("basis"),
    }
