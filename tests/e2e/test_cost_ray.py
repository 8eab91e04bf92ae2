"""A Ray run's cost is its worker-hours × compute.hourly_rate: a real Ray head started by this
module (tests/support/ray_cluster.py), the run submitted through Ray's Jobs API with two DDP workers."""

from __future__ import annotations

import pytest

from ..support.helpers import mlws, mlws_json
from ..support.ray_cluster import isolated_ray_env, ray_head  # noqa: F401  (module fixture)

pytestmark = [pytest.mark.ray]

TINY = ["trainer.max_epochs=1", "trainer.limit_train_batches=2", "trainer.limit_val_batches=2", "logger=none"]


def test_a_ray_runs_cost_is_its_worker_hours_at_the_hourly_rate(ray_head, ws, env):
    renv = isolated_ray_env(env)
    out = mlws(
        "train",
        "+experiment=model_12",
        *TINY,
        "compute=ray",
        f"compute.address={ray_head['address']}",
        "compute.num_workers=2",
        "compute.hourly_rate=1800",
        cwd=ws,
        env=renv,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=renv)
    cost, wall = run["cost"], run["cost"]["hours"] / 2
    assert run["backend"] == "ray" and cost["workers"] == 2 and wall > 0
    assert cost["usd"] == pytest.approx(cost["hours"] * 1800, rel=1e-3)  # worker-hours × $1800/h
    assert "worker-hours (wall time × 2 workers) × compute.hourly_rate $1800/h" in cost["basis"]
    unpriced = mlws(
        "train",
        "+experiment=model_12",
        *TINY,
        "compute=ray",
        f"compute.address={ray_head['address']}",
        cwd=ws,
        env=renv,
        timeout=600,
    )
    assert unpriced.returncode == 0, unpriced.stderr[-3000:]
    second = mlws_json("show", "2", cwd=ws, env=renv)["cost"]
    assert second["usd"] is None and "set compute.hourly_rate" in second["basis"]
    assert mlws_json("cost", "--by", "backend", cwd=ws, env=renv)["groups"][0]["key"] == "ray"
