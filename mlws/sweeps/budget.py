"""A sweep's budget (`mlws train -m ... --budget 25`, in USD): before each trial the driver asks
whether it may launch one more.

The spend so far is every run of the sweep (those of earlier drivers too, so the budget holds across
`--resume`), each reckoned as `mlws runs` shows it (mlws/spend/). The next trial is expected to cost
the mean of the sweep's finished trials; until one has finished, one trial runs at a time, so the
sweep overshoots by at most one trial's cost. Running trials count at their expected cost (or what
they have spent, if more). When the spend reaches the budget, running trials are stopped cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MlwsError

GO, WAIT, STOP = "go", "wait", "stop"


class BudgetReached(MlwsError):
    """The sweep ends: no further trial fits in its budget (a normal end, recorded as finished)."""

    exit_code = 0


def check_budget(budget) -> float | None:
    """A budget given on the command line or recorded with the sweep: a positive number of dollars."""
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget <= 0:
        raise MlwsError(f"--budget must be a positive amount of dollars (got {budget!r})")
    return float(budget)


@dataclass(frozen=True)
class Verdict:
    action: str  # go | wait | stop
    spent: float  # USD, every run of the sweep so far
    expected: float | None  # USD, the next trial's expected cost
    reason: str = ""


def decide(budget: float, finished: list[float], running: list[float], parallel_slots: int = 1) -> Verdict:
    """Pure: may one more trial start? `finished`: the costs of the sweep's ended trials; `running`:
    what each running trial has spent so far."""
    spent = sum(finished) + sum(running)
    expected = sum(finished) / len(finished) if finished else None
    if spent >= budget:
        return Verdict(STOP, spent, expected, f"spent ${spent:.2f} of its ${budget:g} budget")
    if expected is None:  # nothing to go by yet: one trial at a time until one has finished
        return Verdict(WAIT if running else GO, spent, None)
    projected = sum(finished) + sum(max(r, expected) for r in running) + expected
    if projected <= budget:
        return Verdict(GO, spent, expected)
    if running:  # a running trial may end cheaper than expected: decide again when it ends
        return Verdict(WAIT, spent, expected)
    return Verdict(
        STOP,
        spent,
        expected,
        f"spent ${spent:.2f} of its ${budget:g} budget; the next trial would cost about ${expected:.2f}",
    )


def verdict(registry, sweep_id: int, budget: float, active_ids) -> Verdict:
    """The sweep's spend from the registry, and whether one more trial fits."""
    from ..spend.query import cost_rows
    from ..spend.runs import costs_by_id

    rows = cost_rows(registry, sweep_id=int(sweep_id))
    costs = costs_by_id(registry, rows)
    active = set(active_ids)
    unpriced = [r["id"] for r in rows if costs[r["id"]].get("usd") is None and r["status"] != "running"]
    if unpriced:
        raise MlwsError(
            f"sweep {sweep_id} has a budget but run {unpriced[0]} has no price ({costs[unpriced[0]]['basis']})"
        )
    finished = [costs[r["id"]]["usd"] for r in rows if r["status"] != "running" and r["id"] not in active]
    running = [costs[r["id"]]["usd"] or 0.0 for r in rows if r["status"] == "running" or r["id"] in active]
    return decide(budget, finished, running)


def priced(config: dict) -> str | None:
    """Why a run of this config would have no price (a budget needs one); None when it has one."""
    from ..compute import backend_class

    compute = config.get("compute") or {}
    cls = backend_class(compute)
    probe = {
        "status": "succeeded",
        "started_at": "2026-01-01T00:00:00+00:00",
        "ended_at": "2026-01-01T01:00:00+00:00",
        "config": config,
        "artifacts": {"estimate": {"available": True, "hourly_price": 1.0}},
    }
    cost = cls({k: v for k, v in compute.items() if k != "_target_"}).cost(probe)
    if cost is None or cost.get("usd") is None:
        # the basis only: its own "; set cost.local_hourly ..." hint is the one the refusal gives
        basis = ((cost or {}).get("basis") or "").split(";")[0].strip()
        return basis or f"compute backend {cls.name!r} reckons no price"
    return None
