"""Runs recorded in a chosen order with the lineage re-linked after each, as `mlws train` does: the
experiments model_01..model_12 each building on the one before (tests/unit/test_lineage_orders.py,
and the same on PostgreSQL in tests/e2e/test_first_hour_lineage.py)."""

from mlws.history.parent import relevant, relink

N = 12
BUILDS = {f"model_{k:02d}": (f"model_{k - 1:02d}" if k > 1 else None) for k in range(1, N + 1)}


def config(experiment: str, extra: tuple[str, ...]) -> dict:
    """Each experiment changes one more key than the one it builds on; an override changes one more."""
    k = int(experiment.split("_")[1])
    model = {f"c{j}": j for j in range(1, k + 1)}
    for override in extra:
        key, value = override.split("=")
        model[key.split(".")[-1]] = value
    return {"description": f"{experiment} {extra}", "model": model}


def record_in_order(order: list[tuple[str, tuple[str, ...]]], fixed: dict[int, dict] | None = None) -> list[dict]:
    """Record the runs in this order, re-linking after each as `mlws train` does."""
    runs: list[dict] = []
    for run_id, (experiment, extra) in enumerate(order, start=1):
        run = {
            "id": run_id,
            "experiment": experiment,
            "overrides": [f"+experiment={experiment}", *extra],
            "config": config(experiment, extra),
            "rerun_of": None,
            "sweep_id": None,
            "parent_id": None,
            **(fixed or {}).get(run_id, {}),
        }
        runs.append(run)
        names = relevant(experiment, BUILDS)
        changed = relink(run, [r for r in runs if r["experiment"] in names], BUILDS)
        for r in runs:
            r["parent_id"] = changed.get(r["id"], r["parent_id"])
    return runs


# The README's runs: model_12 first, an lr change, model_03 with a batch size, model_12 again, then
# every experiment 01..12 in turn.
README = [
    ("model_12", ()),
    ("model_12", ("model.lr=3e-4", "trainer.max_epochs=20")),
    ("model_03", ("data.batch_size=32",)),
    ("model_12", ()),
] + [(f"model_{k:02d}", ()) for k in range(1, N + 1)]
