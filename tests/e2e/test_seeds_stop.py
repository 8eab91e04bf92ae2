"""A replicate group driven in the background (`--seeds K --detach`): its driver's log does not say
"(resumed)" when nothing resumed, and `mlws sweep ID --stop` stops the trial that is training (it
used to train on after the driver was gone), starts no further seed and records the group stopped."""

from __future__ import annotations

import json

from ..support.helpers import mlws, mlws_json, wait_for

NEVER_ENDS = [
    "+experiment=model_12",
    "trainer.max_epochs=1000000",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=2",
    "logger=none",
]


def test_stopping_a_detached_group_stops_its_trial_and_records_the_group_stopped(ws, env):
    out = mlws("train", *NEVER_ENDS, "--seeds", "3", "--detach", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    group = mlws_json("sweeps", cwd=ws, env=env)[0]["id"]
    wait_for(
        lambda: any(r["status"] == "running" for r in mlws_json("runs", cwd=ws, env=env)),
        timeout=180,
        what="the group's first trial to start",
    )
    log = (ws / ".mlws" / "sweeps" / str(group) / "driver.log").read_text()
    assert f"sweep {group}: 3 trials of" in log and "(resumed)" not in log, log

    stopped = mlws("sweep", str(group), "--stop", cwd=ws, env=env, timeout=400)
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    assert f"sweep {group} stopped" in stopped.stderr
    view = json.loads(mlws("sweep", str(group), "--json", cwd=ws, env=env).stdout)  # exit 1: none succeeded
    assert view["sweep"]["status"] == "stopped", view["sweep"]
    assert (
        view["sweep"]["error"].startswith(f"sweep {group} stopped; stopped runs ")
        and "resume with" in view["sweep"]["error"]
    )
    runs = mlws_json("runs", cwd=ws, env=env)
    assert [r["status"] for r in runs] == ["stopped"], runs  # the trial stopped; no later seed started

    again = mlws("sweep", str(group), "--stop", cwd=ws, env=env)
    assert again.returncode == 2 and f"sweep {group} is not running (it is stopped)" in again.stderr


def test_a_resumed_driver_says_so_and_a_fresh_one_does_not(ws, env):
    from ..support.helpers import use_record_only_backend

    rec = use_record_only_backend(ws)
    first = mlws("train", "+experiment=model_12", *rec, "--seeds", "2", cwd=ws, env=env)
    assert first.returncode == 0 and "(resumed)" not in first.stdout + first.stderr
    more = mlws("train", "+experiment=model_12", *rec, "--seeds", "2", cwd=ws, env=env)  # the same group again
    assert more.returncode == 0 and "(resumed)" in more.stdout + more.stderr, more.stderr
