"""A sweep's budget for real: a local grid sweep whose trials are short model_12 trainings priced by
cost.local_hourly stops once the next trial would not fit, and a resume keeps to the same budget."""

from __future__ import annotations

import json

import pytest

from ..support.budget import GRID, RATE, TINY
from ..support.helpers import mlws, mlws_json

N = 4  # the budget: four foreground runs' cost


def test_a_local_sweep_stops_after_its_budget_of_n_trials_and_a_resume_keeps_to_it(ws, env):
    # fresh: the trials' cost is their wall time in whole seconds, so the one that prices a trial must
    # take as long as the sweep's trials do, interpreter start included (a forked CLI can be sub-second)
    one = json.loads(mlws("train", *TINY, *RATE, "--json", cwd=ws, env=env, fresh=True).stdout)
    trial_cost = mlws_json("show", str(one["id"]), cwd=ws, env=env)["cost"]["usd"]
    budget = round(N * trial_cost, 2)
    assert budget > 0, trial_cost
    out = mlws("train", "-m", *TINY, *RATE, GRID, "--budget", str(budget), cwd=ws, env=env, timeout=600, fresh=True)
    assert out.returncode in (0, 1), out.stderr[-3000:]  # 1: a trial still running was stopped at the budget
    assert "stopped within its budget" in out.stdout + out.stderr
    # exit 1 where a trial still running was stopped at the budget (it did not succeed): the view stands
    view = json.loads(mlws("sweep", "1", "--json", cwd=ws, env=env).stdout)
    costs = [t["cost"]["usd"] for t in view["trials"]]
    # a trial (a fresh worker process) costs more than the foreground run: N is the budget over what
    # the sweep's trials really cost, and the sweep stops after N trials, give or take one
    n = budget / (sum(costs) / len(costs))
    assert abs(len(costs) - n) <= 1 and len(costs) >= 2, (len(costs), costs, budget)
    assert len(costs) < 7  # the grid was not run to its end
    assert view["cost"]["usd"] == pytest.approx(sum(costs), abs=1e-4)
    assert sum(costs) <= budget + max(costs) + 1e-6  # overshoot: at most one trial's cost
    assert view["sweep"]["settings"]["budget"] == pytest.approx(budget)
    text = mlws("sweep", "1", cwd=ws, env=env).stdout
    assert " cost " in text and f"of a ${budget:g} budget" in text

    resumed = mlws("sweep", "1", "--resume", cwd=ws, env=env, timeout=600, fresh=True)
    assert "stopped within its budget" in resumed.stdout + resumed.stderr, resumed.stderr[-2000:]
    assert len(json.loads(mlws("sweep", "1", "--json", cwd=ws, env=env).stdout)["trials"]) == len(
        costs
    )  # nothing more was run

    # a bigger budget, given as it resumes: more trials run, and the new budget is the one recorded
    more = mlws(
        "sweep", "1", "--resume", "--budget", f"{budget + 2 * max(costs):g}", cwd=ws, env=env, timeout=600, fresh=True
    )
    assert more.returncode in (0, 1), more.stderr[-2000:]
    after = json.loads(mlws("sweep", "1", "--json", cwd=ws, env=env).stdout)
    assert len(after["trials"]) > len(costs) and after["sweep"]["settings"]["budget"] == pytest.approx(
        budget + 2 * max(costs)
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["--budget", "-5"], "--budget: must be a positive amount of dollars, got -5"),
        (["--budget", "lots"], "--budget: expected an amount of dollars, got 'lots'"),
        (["--budget", "5"], "--budget needs a price for each trial"),  # no cost.local_hourly: no price
    ],
)
def test_a_bad_budget_is_one_clear_line_and_records_nothing(ws, env, args, message):
    out = mlws("train", "-m", *TINY, GRID, *args, cwd=ws, env=env)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert mlws_json("sweeps", cwd=ws, env=env) == [] and mlws_json("runs", cwd=ws, env=env) == []


def test_a_budget_is_for_sweeps(ws, env):
    out = mlws("train", *TINY, *RATE, "--budget", "5", cwd=ws, env=env)
    assert out.returncode == 2 and "are for sweeps: add -m" in out.stderr
    shown = mlws("sweep", "1", "--budget", "5", cwd=ws, env=env)
    assert shown.returncode == 2 and "--budget changes a sweep's budget as it resumes" in shown.stderr
    assert mlws_json("runs", cwd=ws, env=env) == []


def test_a_trial_still_running_when_the_spend_reaches_the_budget_is_stopped_cleanly(ws, env):
    """$1 a second and a $25 budget: the first trial (it never ends by itself) is stopped
    once the sweep's spend reaches the budget, is recorded `stopped` with what it has, and no second
    trial starts (a stop in the worker's first seconds too: lifecycle.stop records it stopped)."""
    out = mlws(
        "train", "-m", *TINY, *RATE, "trainer.max_epochs=1000000", GRID, "--budget", "25", cwd=ws, env=env, timeout=600
    )
    text = out.stdout + out.stderr
    assert out.returncode == 1, text[-3000:]  # a trial that did not succeed: the table says which
    assert "stopped within its budget" in text and "stopped runs 1" in text, text[-3000:]
    view = json.loads(mlws("sweep", "1", "--json", cwd=ws, env=env).stdout)  # exit 1: a trial did not succeed
    assert [t["status"] for t in view["trials"]] == ["stopped"]
    assert 25 <= view["cost"]["usd"] <= 25 + 20  # stopped within a poll and a clean shutdown (a busy machine's)
    assert mlws_json("show", "1", cwd=ws, env=env)["artifacts"]["checkpoints"]  # what it had is kept
