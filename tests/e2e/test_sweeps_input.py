"""Sweeps' bookkeeping and bad input, through the real CLI, Hydra's real sweepers and the registry.

Trials here use the record-only test backend (tests/support/helpers.py: the real launch path, no model
trained; its metric is derived from the trial's config), so resume rules and errors are checked
in seconds; tests/e2e/test_sweeps.py trains for real."""

import json
import sqlite3

from ..support.helpers import mlws, mlws_json, use_record_only_backend

BASE = ["+experiment=model_12"]


def _sweeps(ws, env):
    return mlws_json("sweeps", cwd=ws, env=env)


def _nothing_recorded(ws, env):
    assert _sweeps(ws, env) == []
    assert mlws_json("runs", cwd=ws, env=env) == []


def test_bad_input_gets_one_clear_message_and_records_nothing(ws, env):
    cases = [
        (["model.lrr=1e-3,3e-4"], "unknown key 'model.lrr'"),
        (["model.lr=1e-3"], "nothing to sweep"),
        (["model.lr=1e-3,3e-4", "hydra/sweeper=nosuch"], "hydra/sweeper"),
        (["model.lr=interval(1e-4,1e-2)"], "hydra/sweeper=optuna"),
        (["model.lr=1e-3,-1"], "model.lr=-1"),  # one grid point fails validation: nothing starts
        (["+experiment=model_99", "model.lr=1e-3,3e-4"], "experiment 'model_99' not found"),
        (["model.lr=1e-3,3e-4", "--parallel", "0"], "must be at least 1"),
        (
            ["model.lr=interval(1e-4,1e-2)", "hydra/sweeper=optuna", "hydra.sweeper.direction=minimize"],
            "contradicts monitor.mode=max",
        ),
        (["model=glob(*)"], "not glob()"),
    ]
    for extra, message in cases:
        overrides = extra if extra[0].startswith("+experiment") else BASE + extra
        out = mlws("train", "-m", *overrides, "logger=none", cwd=ws, env=env)
        assert out.returncode == 2, (extra, out.stdout, out.stderr)
        assert message in out.stderr, (extra, out.stderr)
        errors = [line for line in out.stderr.splitlines() if "error:" in line]
        assert "Traceback" not in out.stderr and len(errors) == 1, out.stderr
    _nothing_recorded(ws, env)
    out = mlws("sweep", "7", cwd=ws, env=env)
    assert out.returncode == 2 and "no sweep 7" in out.stderr


def test_resume_skips_what_succeeded_and_refuses_a_changed_space(ws, env):
    """Record-only trials: the same command again runs nothing; a changed space is refused on resume."""
    on = use_record_only_backend(ws)
    first = mlws(
        "train",
        "-m",
        *BASE,
        *on,
        "model.lr=1e-3,3e-4",
        "data.batch_size=32,64",
        "--parallel",
        "4",
        "--label",
        "lr-grid",
        "--note",
        "lr against batch size",
        cwd=ws,
        env=env,
    )
    assert first.returncode == 0, first.stderr
    runs = mlws_json("runs", cwd=ws, env=env)
    assert (
        len(runs) == 4
        and {r["sweep_id"] for r in runs} == {1}
        and sorted(r["trial_index"] for r in runs) == [1, 2, 3, 4]
    )
    assert all(r["labels"] == ["sweep-1", "lr-grid"] and r["status"] == "succeeded" for r in runs)
    assert all(r["note"] == "lr against batch size" for r in runs)
    assert mlws("train", "-m", *BASE, *on, "model.lr=1,2", "--label", "bad label", cwd=ws, env=env).returncode == 2

    again = mlws("train", "-m", *BASE, *on, "model.lr=1e-3,3e-4", "data.batch_size=32,64", cwd=ws, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already succeeded") == 4 and "sweep 1 (resumed)" in again.stdout
    assert len(mlws_json("runs", cwd=ws, env=env)) == 4

    # the same fixed overrides with another space: --resume refuses it, --force takes it, and only
    # the one new point runs (the others are the same effective configs)
    changed = [*BASE, *on, "model.lr=1e-3,3e-4,1e-4", "data.batch_size=32,64"]
    refused = mlws("train", "-m", *changed, "--resume", cwd=ws, env=env)
    assert refused.returncode == 2 and "search space changed" in refused.stderr
    assert "model.lr: 1e-3,3e-4 → 1e-3,3e-4,1e-4" in refused.stderr
    assert len(mlws_json("runs", cwd=ws, env=env)) == 4
    forced = mlws("train", "-m", *changed, "--resume", "--force", "--json", cwd=ws, env=env)
    assert forced.returncode == 0, forced.stderr
    view = json.loads(forced.stdout)
    assert view["sweep"]["id"] == 1 and len(view["trials"]) == 6
    new = [r for r in mlws_json("runs", cwd=ws, env=env) if r["id"] > 4]
    assert sorted(r["trial_index"] for r in new) == [5, 6]
    assert all(r["labels"] == ["sweep-1", "lr-grid"] for r in new)  # a resume keeps the sweep's labels
    assert all(any(o.startswith("model.lr=") and float(o.split("=")[1]) == 1e-4 for o in r["overrides"]) for r in new)

    # without --resume, a new space is a new sweep
    other = mlws("train", "-m", *BASE, *on, "model.lr=1e-2,1e-3", cwd=ws, env=env)
    assert other.returncode == 0 and "sweep 2:" in other.stdout
    assert [s["id"] for s in _sweeps(ws, env)] == [1, 2]


def test_sweep_ranks_trials_by_its_own_objective(ws, env):
    """The ranking follows monitor.metric/mode of the sweep's config: here a minimised loss."""
    on = use_record_only_backend(ws)
    out = mlws(
        "train",
        "-m",
        *BASE,
        *on,
        "monitor.metric=val/loss",
        "monitor.mode=min",
        "model.lr=1e-3,3e-4,1e-4",
        "--parallel",
        "3",
        "--json",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    values = [t["value"] for t in view["trials"]]
    assert values == sorted(values) and len(values) == 3 and view["varied"] == ["model.lr"]
    assert [t["rank"] for t in view["trials"]] == [1, 2, 3]
    listed = _sweeps(ws, env)[0]
    assert listed["metric"] == "val/loss" and listed["best"]["value"] == values[0]
    md = mlws("sweep", "1", "--format", "markdown", cwd=ws, env=env).stdout
    assert md.startswith("### Sweep 1 · model_12 · basic · finished")
    assert md.count("| succeeded |") == 3 and "`val/loss` (min is better)" in md


def test_swept_keys_before_fixed_ones_and_a_key_given_twice_are_planned_as_hydra_runs_them(ws, env):
    """The jobs Hydra's sweeper launches keep the command's order, and a repeated key counts once."""
    on = use_record_only_backend(ws)
    out = mlws(
        "train",
        "-m",
        "model.lr=1e-3,3e-4",
        *BASE,
        *on,
        "data.batch_size=16,32",
        "data.batch_size=64",
        "--parallel",
        "4",
        "--json",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["sweep"]["space"] == {"model.lr": "1e-3,3e-4"} and view["sweep"]["settings"]["n_trials"] == 2
    runs = mlws_json("runs", cwd=ws, env=env)
    assert len(runs) == 2 and all("data.batch_size=64" in r["overrides"] for r in runs)
    assert runs[0]["overrides"][0].startswith("model.lr=")  # as typed


def test_optuna_study_lives_in_the_registry_database(ws, env):
    on = use_record_only_backend(ws)
    out = mlws(
        "train",
        "-m",
        *BASE,
        *on,
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=5",
        "hydra.sweeper.sampler.seed=3",
        "model.lr=interval(1e-4,1e-2)",
        "data.batch_size=32,64",
        "--parallel",
        "2",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    db = sqlite3.connect(ws / ".mlws" / "registry.db")
    states = dict(
        db.execute(
            "SELECT t.state, COUNT(*) FROM trials t JOIN studies s ON s.study_id = t.study_id "
            "WHERE s.study_name = 'mlws-sweep-1' GROUP BY t.state"
        ).fetchall()
    )
    assert states == {"COMPLETE": 5}
    runs = mlws_json("runs", cwd=ws, env=env)
    assert len(runs) == 5 and all(r["sweep_id"] == 1 for r in runs)
    # each run's overrides are the trial's: the sampled lr and one of the batch sizes
    assert all(
        any(o.startswith("model.lr=") for o in r["overrides"])
        and any(o in ("data.batch_size=32", "data.batch_size=64") for o in r["overrides"])
        for r in runs
    )
    assert not list(ws.glob("*.db")) and not (ws / "multirun").exists() and not (ws / "outputs").exists()


def test_detach_drives_the_sweep_in_the_background(ws, env):
    from ..support.helpers import wait_for

    on = use_record_only_backend(ws)
    out = mlws("train", "-m", *BASE, *on, "model.lr=1e-3,3e-4", "--detach", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    assert "sweep 1 runs in the background" in out.stderr and "driver.log" in out.stderr
    wait_for(lambda: _sweeps(ws, env)[0]["status"] == "finished", timeout=120, what="the background sweep")
    runs = mlws_json("runs", cwd=ws, env=env)
    assert [(r["trial_index"], r["status"]) for r in runs] == [(1, "succeeded"), (2, "succeeded")]
    assert "trial 2 (run 2) succeeded" in (ws / ".mlws" / "sweeps" / "1" / "driver.log").read_text()
