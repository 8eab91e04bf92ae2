"""Runs with metrics, and the registry's metric queries checked against the Python reference
filters: shared by the SQLite unit test and the PostgreSQL test, which run the same SQL."""

import pytest

from mlws.history.query import apply_where, condition_parts, sort_runs
from mlws.ops.history import best_run_id
from mlws.spec import RunSpec

ROWS = [
    {"id": 1, "metrics": {"val/acc": 0.9, "mse": 3.0}},
    {"id": 2, "metrics": {"val/acc": 0.97}},
    {"id": 3, "metrics": {"note": "n/a"}},
    {"id": 4, "metrics": {"val/acc": 0.97, "mse": 1.0}},
    {"id": 5, "metrics": {"val/acc": 0.5, "mse": 2}},
]


def fill(reg, tmp_path):
    """ROWS as runs (run 2 failed, run 5 monitors mse with mode min), each the parent of the next."""
    for i, row in enumerate(ROWS, start=1):
        monitor = {"metric": "mse", "mode": "min"} if i == 5 else {"metric": "val/acc", "mode": "max"}
        spec = RunSpec(
            experiment="e",
            overrides=(),
            config={"monitor": monitor},
            workspace=str(tmp_path),
            command="mlws train",
            created_at="2026-11-30T00:00:00+00:00",
        )
        run_id = reg.create(spec, "", "local", run_dir_for=lambda n: str(tmp_path / str(n)), parent_id=i - 1 or None)
        reg.finish(run_id, "succeeded" if i != 2 else "failed", metrics=row["metrics"])
    return reg


WHERES = [[], ["val/acc>=0.95"], ["val/acc>0.95", "mse<2"], ["mse>100"], ["mse==2"], ["mse!=2"]]
SORTS = [(None, False), ("val/acc", False), ("val/acc", True), ("mse", True), ("mse", False)]


def check_against_reference(reg, where, sort, ascending, limit):
    expected = sort_runs(apply_where(ROWS, where), sort, ascending)
    if limit is not None:
        expected = expected[:limit] if sort else expected[-limit:]
    got = reg.select_by_metrics([condition_parts(c) for c in where], sort, ascending, limit)
    assert got == [r["id"] for r in expected], (where, sort, ascending, limit)


def check_best_and_ancestors(reg):
    assert best_run_id(reg, "val/acc") == 4  # succeeded only (run 2 failed); 0.97
    assert best_run_id(reg, "val/acc", "min") == 5
    assert best_run_id(reg, "mse") == 4  # declared min by the run monitoring it
    assert best_run_id(reg, "mse", "max") == 1
    with pytest.raises(Exception, match="no succeeded run has the metric 'val/f1'"):
        best_run_id(reg, "val/f1")
    assert reg.ancestors(4) == [1, 2, 3, 4]
    with pytest.raises(Exception, match="no run 99"):
        reg.ancestors(99)
