"""A cloud run's cost from its spend ledger, across spot recoveries: the ledger a job keeps on its
nodes (mlws/training/guards.py, with node_run's recovery gap) is what the run's cost reckons
(mlws/spend/reckon.py). The job's processes run in this test with a fake clock and fake prices: no
VM, no SkyPilot; what is exercised is the ledger's arithmetic and its reading."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from mlws.compute.sky.node_run import bill_recovery_gap
from mlws.spend.reckon import add_up, cloud
from mlws.training import guards
from mlws.training.guards import CostLimit


def _job(run_dir, monkeypatch, prices, *, provisioning=120.0, runtime=300.0, gap=45.0, regions=None):
    """One process per price: the first after `provisioning`, each later one after a preemption
    `gap` seconds after the last save. Returns the dollars billed by hand and the last guard."""
    clock = [10_000.0]
    monkeypatch.setattr(guards.time, "time", lambda: clock[0])
    trainer = SimpleNamespace(is_global_zero=True, world_size=1, should_stop=False)
    launched, billed, guard = clock[0] - provisioning, 0.0, None
    for i, price in enumerate(prices):
        if regions:
            monkeypatch.setenv("SKYPILOT_CLUSTER_INFO", json.dumps({"cloud": "aws", "region": regions[i]}))
        if i:  # preempted: the new VM starts `gap` seconds after the last save
            clock[0] += gap
            assert bill_recovery_gap(run_dir, now=clock[0]) == pytest.approx(gap)
        guard = CostLimit(hourly_price=price, max_cost=float("inf"), run_dir=run_dir, launched_at=launched)
        clock[0] += runtime
        guard.on_train_end(trainer, None)
        ledger = run_dir / guards.LEDGER
        os.utime(ledger, (clock[0], clock[0]))  # saved now (node_run measures the gap from the file's time)
        billed += ((provisioning if i == 0 else gap) + runtime) * price / 3600.0
    return billed, guard


def test_a_runs_cost_across_three_preemptions_is_its_ledger_each_vm_at_its_price(tmp_path, monkeypatch):
    prices = [2.0, 2.0, 3.0, 2.5]  # four VMs; the third and fourth offerings in other regions
    billed, guard = _job(tmp_path, monkeypatch, prices, regions=["us-east-1", "us-east-1", "eu-west-1", "us-west-2"])
    ledger = json.loads((tmp_path / guards.LEDGER).read_text())
    assert len(ledger["segments"]) == 4 and len(ledger["recovery_gaps_s"]) == 3
    assert [s["region"] for s in ledger["segments"]] == ["us-east-1", "us-east-1", "eu-west-1", "us-west-2"]
    assert ledger["billed_seconds"] == pytest.approx(120 + 4 * 300 + 3 * 45)
    assert guard.spend() == pytest.approx(billed, rel=1e-3)  # what compute.max_cost compares
    record = {
        "status": "succeeded",
        "started_at": "2026-01-01T00:00:00+00:00",
        "ended_at": "2026-01-01T00:10:00+00:00",
        "artifacts": {"ledger": ledger, "estimate": {"available": True, "hourly_price": 2.0}},
    }
    cost = cloud(record)
    assert cost["usd"] == pytest.approx(billed, rel=0.01) and "ledger" in cost["basis"]
    assert "$2/h, $3/h, $2.5/h" in cost["basis"]
    # the launch price alone (wall time × $2/h) would have been another number
    assert cloud({**record, "artifacts": {"estimate": record["artifacts"]["estimate"]}})["usd"] != pytest.approx(
        billed, rel=0.01
    )


def test_per_run_spends_sum_to_their_ledgers(tmp_path, monkeypatch):
    costs, billed = [], 0.0
    for n, prices in enumerate(([1.0, 1.0, 4.0, 1.0], [0.5], [3.0, 3.0])):
        run_dir = tmp_path / str(n)
        run_dir.mkdir()
        spent, _ = _job(run_dir, monkeypatch, prices)
        billed += spent
        ledger = json.loads((run_dir / guards.LEDGER).read_text())
        costs.append(cloud({"status": "succeeded", "artifacts": {"ledger": ledger}}))
    assert add_up(costs)["usd"] == pytest.approx(billed, rel=0.01)


def test_a_ledger_from_before_segments_is_priced_at_its_one_price():
    cost = cloud({"status": "succeeded", "artifacts": {"ledger": {"billed_seconds": 7200, "hourly_price": 1.5}}})
    assert cost["usd"] == pytest.approx(3.0) and cost["hours"] == pytest.approx(2.0)
