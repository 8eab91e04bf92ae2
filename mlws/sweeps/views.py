"""What `mlws sweep ID` and `mlws sweeps` show: a sweep's trials ranked best first with the keys that
vary, and every sweep with its trial counts and best value. Read-only."""

from __future__ import annotations

from .ranking import rank, rows
from .records import with_live_status
from .trials import value_of


def view(registry, sweep_id: int) -> dict:
    """A sweep and its trials ranked best first, with the keys that vary between them."""
    record = with_live_status(registry.sweeps.get(int(sweep_id)))
    trials = registry.list(sweep_id=int(sweep_id), with_config=True)
    keys, table = rows(trials, record["metric"], record["mode"])
    counts = {st: sum(1 for t in trials if t["status"] == st) for st in ("succeeded", "failed", "stopped", "running")}
    succeeded = {t["trial_key"] for t in trials if t["status"] == "succeeded"}
    unsucceeded = sorted({t["trial_key"] for t in trials if t["trial_key"] not in succeeded})
    from .seed_groups import seed_groups  # a sweep that varies seed: its trials by everything else

    return {
        "sweep": record,
        "varied": keys,
        "trials": table,
        "counts": counts,
        "unsucceeded": len(unsucceeded),
        "seed_groups": seed_groups(keys, table, record["mode"]),
    }


def listing(registry, limit: int | None = None) -> list[dict]:
    """The sweeps (the newest `limit`), oldest first, each with its trial counts and best value."""
    records = registry.sweeps.list(newest=limit)
    trials: dict[int, list[dict]] = {}
    for t in registry.sweeps.trials_summary([r["id"] for r in records]):
        trials.setdefault(t["sweep_id"], []).append(t | {"trial_index": t["id"]})
    out = []
    for r in records:
        mine = trials.get(r["id"], [])
        counts: dict[str, int] = {}
        for t in mine:
            counts[t["status"]] = counts.get(t["status"], 0) + 1
        ranked = rank(mine, r["metric"], r["mode"])
        top = ranked[0] if ranked and value_of(ranked[0], r["metric"]) is not None else None
        out.append(
            with_live_status(r)
            | {"counts": counts, "best": top and {"run": top["id"], "value": value_of(top, r["metric"])}}
        )
    return out
