"""A `--budget` refused for want of a price says how to set one once (a user saw the
"set cost.local_hourly" hint twice in one line: the backend's basis carried its own copy)."""

from __future__ import annotations

from mlws.sweeps.budget import priced

from ..support.budget import GRID, TINY
from ..support.helpers import mlws, mlws_json


def test_an_unpriced_local_run_names_its_basis_without_a_hint():
    why = priced({"compute": {"_target_": "mlws.compute.local.LocalBackend"}, "cost": {"local_hourly": 0.0}})
    assert why == "local wall time"
    assert priced({"compute": {"_target_": "mlws.compute.local.LocalBackend"}, "cost": {"local_hourly": 2.0}}) is None


def test_the_budget_refusal_gives_the_price_hint_once(ws, env):
    out = mlws("train", "-m", *TINY, GRID, "--budget", "5", cwd=ws, env=env)
    assert out.returncode == 2 and "--budget needs a price for each trial" in out.stderr, out.stderr
    assert out.stderr.count("cost.local_hourly") == 1, out.stderr
    assert mlws_json("sweeps", cwd=ws, env=env) == []
