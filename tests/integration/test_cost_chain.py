"""The cumulative cost to reach each lineage step, in-process on a real registry (SQLite, and a
throwaway PostgreSQL server: the config keys are extracted by each database's own JSON functions)
seeded with runs of known duration (mlws/ops/cost.py chain_costs; mlws/spend/query.py)."""

from __future__ import annotations

import pytest

from mlws.ops.cost import chain_costs
from mlws.registry import open_registry
from mlws.spec import RunSpec

from ..support.postgres_server import postgres_server, postgres_url  # noqa: F401  (fixtures)

LOCAL = {"compute": {"_target_": "mlws.compute.local.LocalBackend"}, "cost": {"local_hourly": 3600.0}}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request, tmp_path):
    if request.param == "sqlite":
        return open_registry(f"sqlite:///{tmp_path / 'registry.db'}")
    return open_registry(request.getfixturevalue("postgres_url"))


def _run(registry, experiment, seconds, status="succeeded", config=LOCAL):
    spec = RunSpec(
        experiment=experiment,
        overrides=(),
        config=config,
        workspace="/",
        command="c",
        created_at="2026-01-01T00:00:00+00:00",
    )
    run_id = registry.create(spec, "", "local", run_dir_for=str)
    registry.update(
        run_id, status=status, started_at="2026-01-01T00:00:00+00:00", ended_at=f"2026-01-01T00:00:{seconds:02d}+00:00"
    )
    return run_id


def test_each_step_counts_every_run_of_the_experiments_on_the_way_up_to_it(registry):
    a1 = _run(registry, "a", 10)
    _run(registry, "a", 5, status="failed")  # a failed try of a: off the chain, counted
    b1 = _run(registry, "b", 20)
    _run(registry, "c", 40)  # another experiment: never counted
    _run(registry, "b", 7, config={"compute": LOCAL["compute"]})  # an unpriced run of b: its time only
    b2 = _run(registry, "b", 30)
    _run(registry, "a", 50)  # a, after the last step: not part of reaching it
    chain = [{"id": a1, "experiment": "a"}, {"id": b1, "experiment": "b"}, {"id": b2, "experiment": "b"}]
    steps = chain_costs(registry, chain)
    assert [s["cost"]["usd"] for s in steps] == [pytest.approx(10), pytest.approx(20), pytest.approx(30)]
    assert [s["cumulative"]["usd"] for s in steps] == [pytest.approx(10), pytest.approx(35), pytest.approx(65)]
    assert [s["cumulative"]["runs"] for s in steps] == [1, 3, 5]
    assert steps[-1]["cumulative"]["priced"] == 4
    assert steps[-1]["cumulative"]["hours"] == pytest.approx((10 + 5 + 20 + 7 + 30) / 3600, abs=1e-5)


def test_a_step_without_an_experiment_counts_its_own_run_and_a_newer_parent_its_runs_up_to_it(registry):
    loose = _run(registry, None, 4)
    early = _run(registry, "a", 6)
    child = _run(registry, "b", 9)
    parent = _run(registry, "a", 8)  # newer than its child (a lineage re-linked later)
    steps = chain_costs(
        registry,
        [{"id": loose, "experiment": None}, {"id": parent, "experiment": "a"}, {"id": child, "experiment": "b"}],
    )
    # reaching the child took its parent too, and every run of b up to the child
    assert [s["cumulative"]["usd"] for s in steps] == [pytest.approx(4), pytest.approx(18), pytest.approx(27)]
    assert early < child < parent and [s["cumulative"]["runs"] for s in steps] == [1, 3, 4]
