"""The cost guard reaches training through the backend (`run_fit`'s `extend`), so a team's own
backend that knows its price stops a run at compute.max_cost without touching mlws's files.
Real CLI, real Lightning on the bundled digits; the backend is the workspace's own package."""

import json

from ..support.helpers import mlws

PRICED_BACKEND = '''
from mlws.compute.local import LocalBackend
from mlws.training.guards import cost_guards


class PricedLocal(LocalBackend):
    """This machine, billed at $3600 an hour ($1 a second): a team's rented box."""
    name = "priced"

    @classmethod
    def run_fit(cls, spec, fit):
        return fit(spec, extend=lambda pl: ({}, cost_guards(spec, pl, hourly_price=3600.0)))
'''


def test_a_users_backend_adds_the_cost_guard_through_extend(ws, env):
    (ws / "acme").mkdir()
    (ws / "acme" / "__init__.py").write_text("")
    (ws / "acme" / "priced.py").write_text(PRICED_BACKEND)
    (ws / "conf" / "compute").mkdir(exist_ok=True)
    (ws / "conf" / "compute" / "priced.yaml").write_text("_target_: acme.priced.PricedLocal\nmax_cost: null\n")
    out = mlws(
        "train",
        "+experiment=model_12",
        "trainer.max_epochs=500",
        "logger=none",
        "compute=priced",
        "compute.max_cost=0.5",
        "--json",
        cwd=ws,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads(out.stdout)
    assert record["status"] == "stopped", record
    assert record["stop_reason"] == "cost limit $0.50 reached (at $3600.00/hour)", record
    epochs = [json.loads(line)["epoch"] for line in (ws / "runs/1/metrics.jsonl").read_text().splitlines()]
    assert max(epochs) < 100  # stopped long before its 500 epochs

    # the same backend without a limit: no guard, the run ends as configured
    out = mlws(
        "train",
        "+experiment=model_12",
        "trainer.max_epochs=1",
        "logger=none",
        "compute=priced",
        "--json",
        cwd=ws,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0 and json.loads(out.stdout)["status"] == "succeeded", out.stderr[-3000:]
