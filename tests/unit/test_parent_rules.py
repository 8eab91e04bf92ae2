"""The record-time parent choice (mlws.history.parent.choose_parent), one table row per rule: what a
run of no experiment keeps and how a sweep's base run is chosen. Runs of an experiment are chosen
again as later runs are recorded: tests/unit/test_lineage_orders.py."""

import pytest

from mlws.history.parent import choose_parent


def run(id, experiment, overrides=(), **config):
    base = {"model": {"lr": 0.1, "width": 32}, "description": f"run {id}"}
    for key, value in config.items():
        base["model"][key] = value
    return {"id": id, "experiment": experiment, "overrides": [f"+experiment={experiment}", *overrides], "config": base}


NEW = {"model": {"lr": 0.1, "width": 64}, "description": "new"}

CASES = [
    # (name, experiment, builds_on, overrides, candidates, expected parent)
    ("no earlier runs: a root", "e2", "e1", ["+experiment=e2"], [], None),
    (
        "rule 1: plain run of E → latest plain run of P, even if another is closer",
        "e2",
        "e1",
        ["+experiment=e2"],
        [run(1, "e1"), run(2, "e1", ["model.lr=0.5"], lr=0.5), run(3, "e2", width=64)],
        1,
    ),
    (
        "rule 1: the latest of several plain runs of P",
        "e2",
        "e1",
        ["+experiment=e2"],
        [run(1, "e1"), run(4, "e1"), run(2, "e1", ["model.lr=0.5"], lr=0.5)],
        4,
    ),
    (
        "rule 1: no plain run of P → the latest run of P",
        "e2",
        "e1",
        ["+experiment=e2"],
        [run(1, "e1", ["model.lr=0.5"], lr=0.5), run(2, "e1", ["model.lr=0.7"], lr=0.7)],
        2,
    ),
    (
        "rule 2: extra overrides → fewest differing keys",
        "e2",
        "e1",
        ["+experiment=e2", "model.lr=0.5"],
        [run(1, "e1"), run(2, "e2", width=64), run(3, "e1", lr=0.9, width=8)],
        2,
    ),
    (
        "rule 2: no run of P yet → fewest differing keys",
        "e2",
        "e1",
        ["+experiment=e2"],
        [run(5, "e0", width=64), run(6, "e0", lr=0.3)],
        5,
    ),
    (
        "rule 2: ties go to the most recent run",
        "e2",
        None,
        ["+experiment=e2"],
        [run(1, "e0"), run(2, "e0"), run(3, "e0")],
        3,
    ),
    ("rule 2: `description` is ignored", "e2", None, ["+experiment=e2"], [run(1, "e0", width=64), run(2, "e0")], 1),
    (
        "a rerun: the same config → the most recent identical run",
        "e2",
        "e1",
        ["+experiment=e2", "seed=1"],
        [run(7, "e2", width=64), run(8, "e2", width=64), run(9, "e1")],
        8,
    ),
]


@pytest.mark.parametrize(
    "name, experiment, builds_on, overrides, candidates, expected", CASES, ids=[c[0] for c in CASES]
)
def test_choose_parent(name, experiment, builds_on, overrides, candidates, expected):
    assert choose_parent(NEW, experiment, builds_on, overrides, candidates) == expected


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_candidates_fall_back_to_the_latest_500_runs_of_any_experiment(tmp_path):
    """The registry offers the last 500 runs of any experiment when E and P have none."""
    from mlws.registry import open_registry
    from mlws.spec import RunSpec

    registry = open_registry(f"sqlite:///{tmp_path / 'r.db'}")
    for i in range(510):
        spec = RunSpec(
            experiment=f"x{i % 3}", overrides=(), config={"i": i}, workspace="/", command="c", created_at="2026-01-01"
        )
        registry.create(spec, "", "local", run_dir_for=str)
    assert [c["id"] for c in registry.parent_candidates(["x1"])][:2] == [509, 506]  # of E first, newest first
    fallback = registry.parent_candidates(["nothing-ran"])
    assert len(fallback) == 500 and fallback[0]["id"] == 510 and fallback[-1]["id"] == 11
