"""Spend: each run's cost (its backend reckons it from the record, mlws/spend/reckon.py), and the
totals `mlws cost`, lineage and sweeps show. Everything here reads the registry alone: no cloud call."""
from __future__ import annotations

from ..spend.reckon import add_up
from ..spend.runs import costs_by_id, run_cost
from ..errors import MlwsError
from .session import session

GROUPINGS = ("experiment", "label", "month", "backend")


def totals(by: str | None = None, *, workspace=None) -> dict:
    """{total, groups: [{key, usd, hours, runs, priced}]}: the spend of every recorded run, grouped
    by experiment, label (a run with two labels counts in both), month (of its start) or backend."""
    if by is not None and by not in GROUPINGS:
        raise MlwsError(f"--by {by!r}: choose one of {', '.join(GROUPINGS)}")
    registry = session(workspace).registry
    rows = registry.list(with_config=True)
    costs = costs_by_id(registry, rows)
    groups: dict[str, list[dict]] = {}
    for r in rows:
        for key in _keys(r, by):
            groups.setdefault(key, []).append(costs[r["id"]])
    return {"by": by, "total": add_up(list(costs.values())),
            "groups": [{"key": key, **add_up(cs)} for key, cs in sorted(groups.items())] if by else []}


def _keys(record: dict, by: str | None) -> list[str]:
    if by == "experiment":
        return [record.get("experiment") or "(no experiment)"]
    if by == "label":
        return list(record.get("labels") or []) or ["(no label)"]
    if by == "month":
        return [str(record.get("started_at") or record.get("created_at") or "")[:7] or "(unknown)"]
    if by == "backend":
        return [record.get("backend") or "(unknown)"]
    return ["all"]


def chain_costs(registry, chain: list[dict]) -> list[dict]:
    """Each lineage step with its run's cost and the cumulative cost to reach it: every run, up to
    that step's, of the experiments on the way there (failed tries, sweep trials and replicate seeds
    included); a step without an experiment counts its own run."""
    experiments = sorted({s["experiment"] for s in chain if s.get("experiment")})
    rows = registry.list(with_config=True) if experiments else []
    rows = [r for r in rows if r.get("experiment") in experiments]
    own = registry.list(ids=[s["id"] for s in chain], with_config=True)
    costs = costs_by_id(registry, rows + [r for r in own if r["id"] not in {x["id"] for x in rows}])
    out, on_the_way, counted = [], set(), set()
    for step in chain:
        if step.get("experiment"):
            on_the_way.add(step["experiment"])
        counted |= {r["id"] for r in rows if r["experiment"] in on_the_way and r["id"] <= step["id"]}
        counted.add(step["id"])
        out.append({**step, "cost": costs.get(step["id"]),
                    "cumulative": add_up([costs[i] for i in sorted(counted) if i in costs])})
    return out


def sweep_costs(registry, view: dict) -> dict:
    """A sweep's view with each trial's cost and the sweep's total (every run it started)."""
    rows = registry.list(sweep_id=int(view["sweep"]["id"]), with_config=True)
    costs = costs_by_id(registry, rows)
    trials = [{**t, "cost": costs.get(t["run"])} for t in view["trials"]]
    return {**view, "trials": trials, "cost": add_up(list(costs.values()))}


def cost_diff(a: dict, b: dict) -> dict:
    """{usd: [a, b], hours: [a, b], delta_usd, delta_hours} of two full records (`mlws diff`)."""
    ca, cb = run_cost(a), run_cost(b)
    pair = lambda key: [ca.get(key), cb.get(key)]
    minus = lambda x, y: None if x is None or y is None else round(y - x, 6)
    return {"usd": pair("usd"), "hours": pair("hours"), "delta_usd": minus(ca.get("usd"), cb.get("usd")),
            "delta_hours": minus(ca.get("hours"), cb.get("hours")), "basis": pair("basis")}
