"""How a run's cost is reckoned from its record (mlws/spend/reckon.py): pure functions, no registry."""

from __future__ import annotations

import pytest

from mlws.spend.reckon import add_up, cloud, ledger_spend, local, money, wall_hours, workers

ONE_HOUR = {"status": "succeeded", "started_at": "2026-01-01T10:00:00+00:00", "ended_at": "2026-01-01T11:00:00+00:00"}


def test_a_local_run_costs_its_wall_time_at_the_local_rate():
    c = local({**ONE_HOUR, "config": {"cost": {"local_hourly": 2.5}}})
    assert c["usd"] == pytest.approx(2.5) and c["hours"] == pytest.approx(1.0) and c["final"] is True
    assert "cost.local_hourly" in c["basis"]


@pytest.mark.parametrize("config", [{}, {"cost": {"local_hourly": 0.0}}, {"cost": None}])
def test_a_local_run_without_a_rate_shows_its_time_only(config):
    c = local({**ONE_HOUR, "config": config})
    assert c["usd"] is None and c["hours"] == pytest.approx(1.0) and "set cost.local_hourly" in c["basis"]


def test_a_cluster_run_costs_worker_hours_at_the_configured_rate():
    c = workers({**ONE_HOUR, "config": {}}, {"num_workers": 3, "hourly_rate": 0.5})
    assert c["hours"] == pytest.approx(3.0) and c["usd"] == pytest.approx(1.5) and c["workers"] == 3
    unpriced = workers(ONE_HOUR, {"num_workers": 2, "hourly_rate": 0.0})
    assert unpriced["usd"] is None and unpriced["hours"] == pytest.approx(2.0)


def test_a_running_run_costs_its_time_so_far():
    from datetime import datetime, timezone

    now = datetime(2026, 1, 1, 10, 30, tzinfo=timezone.utc)
    assert wall_hours({"status": "running", "started_at": ONE_HOUR["started_at"]}, now) == pytest.approx(0.5)
    assert local({"status": "running", "started_at": ONE_HOUR["started_at"]})["final"] is False


def test_a_resumed_run_is_not_charged_for_the_time_it_lay_stopped():
    """Stopped at 10:20, resumed at 12:20 (two idle hours), ended at 13:00: 1 hour ran."""
    record = {
        **ONE_HOUR,
        "ended_at": "2026-01-01T13:00:00+00:00",
        "config": {"cost": {"local_hourly": 2.0}},
        "artifacts": {
            "resumes": [
                {"at": "2026-01-01T12:20:00+00:00", "from": "stopped", "stopped_at": "2026-01-01T10:20:00+00:00"}
            ]
        },
    }
    assert wall_hours(record) == pytest.approx(1.0)
    assert local(record)["usd"] == pytest.approx(2.0)
    older = {**record, "artifacts": {"resumes": [{"at": "2026-01-01T12:20:00+00:00", "from": "stopped"}]}}
    assert wall_hours(older) == pytest.approx(3.0)  # recorded before stopped_at: start to end, as before


def test_a_cloud_run_is_priced_from_its_ledger_each_stretch_at_its_offering():
    """Two VMs: 30 min at $2/h, then (a recovery in another region) 60 min at $3/h."""
    ledger = {
        "billed_seconds": 5400.0,
        "segments": [{"seconds": 1800, "hourly_price": 2.0}, {"seconds": 3600, "hourly_price": 3.0}],
    }
    usd, seconds, prices = ledger_spend(ledger)
    assert usd == pytest.approx(4.0) and seconds == 5400 and prices == [2.0, 3.0]
    c = cloud({**ONE_HOUR, "artifacts": {"ledger": ledger, "estimate": {"available": True, "hourly_price": 2.0}}})
    assert c["usd"] == pytest.approx(4.0) and c["hours"] == pytest.approx(1.5) and "ledger" in c["basis"]


def test_a_cloud_run_without_a_ledger_is_wall_time_at_the_launch_price():
    c = cloud({**ONE_HOUR, "artifacts": {"estimate": {"available": True, "hourly_price": 1.84, "instance_type": "x"}}})
    assert c["usd"] == pytest.approx(1.84) and c["hourly_price"] == 1.84 and c["spend"] == pytest.approx(1.84)
    assert cloud({**ONE_HOUR, "artifacts": {"estimate": {"available": False}}}) is None


def test_totals_add_the_priced_runs_and_every_hour():
    total = add_up([{"usd": 1.0, "hours": 1.0}, {"usd": None, "hours": 2.0}, None, {"usd": 0.5, "hours": 0.5}])
    assert total == {"usd": 1.5, "hours": 3.5, "runs": 3, "priced": 2}
    assert add_up([{"usd": None, "hours": 1.0}])["usd"] is None


def test_money_shows_dollars_or_the_time_when_unpriced():
    assert money(1.234) == "$1.23" and money(0.00123) == "$0.0012" and money(None, 0.5) == "30.0 min"
    assert money(None, 13 / 3600) == "13 s" and money(None, 2.5) == "2.50 h" and money(None) == "—"
