"""Sweeps for real: short model_12 trainings as trials, in parallel, killed and resumed, interrupted,
failing, and an Optuna study resumed to its full trial count."""

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.helpers import launch_chromium, mlws, mlws_json, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.chromium]

SHORT = [
    "+experiment=model_12",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=6",
    "trainer.limit_val_batches=2",
    "logger=none",
]


def _runs(ws, env, sweep_id=1):
    return [r for r in mlws_json("runs", cwd=ws, env=env) if r["sweep_id"] == sweep_id]


def _start_sweep(ws, env, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mlws.cli.main", "train", "-m", *args],
        cwd=ws,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _registry(ws):
    db = sqlite3.connect(ws / ".mlws" / "registry.db")
    db.row_factory = sqlite3.Row
    return db


def _settled_running_trial(ws, driver_pid, succeeded: int, training: bool = False):
    """`succeeded` trials done and one or two running, each in its own worker (none mid-launch;
    with `training`, past its first logged step, so a stop finds Lightning's loop)."""
    if not (ws / ".mlws" / "registry.db").exists():
        return False
    try:
        with _registry(ws) as db:
            rows = db.execute("SELECT status, pid, run_dir FROM runs WHERE sweep_id = 1").fetchall()
    except sqlite3.Error:  # the schema is being created
        return False
    done = sum(r["status"] == "succeeded" for r in rows)
    running = [r for r in rows if r["status"] == "running"]
    if any(r["pid"] in (None, driver_pid) for r in running):
        return False  # a trial being launched: its worker not started yet
    if training and running and not (Path(running[0]["run_dir"]) / "metrics.jsonl").exists():
        return False
    return done >= succeeded and len(running) >= 1


def test_grid_sweep_records_each_trial_and_runs_two_at_a_time(ws, env):
    base = mlws_json("train", *SHORT, cwd=ws, env=env)
    out = mlws("train", "-m", *SHORT, "model.lr=1e-3,3e-3", "data.batch_size=32,64", "--parallel", "2", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    view = mlws_json("sweep", "1", cwd=ws, env=env)
    assert view["sweep"]["status"] == "finished" and view["sweep"]["metric"] == "val/acc"
    assert {(t["params"]["model.lr"], t["params"]["data.batch_size"]) for t in view["trials"]} == {
        (0.001, 32),
        (0.001, 64),
        (0.003, 32),
        (0.003, 64),
    }
    values = [t["value"] for t in view["trials"]]
    assert all(t["status"] == "succeeded" for t in view["trials"]) and values == sorted(values, reverse=True)

    runs = _runs(ws, env)
    assert sorted(r["trial_index"] for r in runs) == [1, 2, 3, 4]
    assert all(r["labels"] == ["sweep-1"] and r["parent_id"] == base["id"] for r in runs)
    assert len({r["run_dir"] for r in runs}) == 4
    # two at a time: the second trial started before the first had ended
    first, second = (
        mlws_json("show", str(r["id"]), cwd=ws, env=env) for r in sorted(runs, key=lambda r: r["trial_index"])[:2]
    )
    assert second["started_at"] < first["ended_at"], (first["started_at"], first["ended_at"], second["started_at"])
    listed = mlws_json("sweeps", cwd=ws, env=env)
    assert listed[0]["counts"] == {"succeeded": 4} and listed[0]["best"]["run"] == view["trials"][0]["run"]
    _sweep_page_renders(ws, env)


def _sweep_page_renders(ws, env):
    """`mlws report --sweep 1` in Chromium: the parallel-coordinates view has an axis per varied key
    and the objective, and one line per trial."""
    page_file = ws / "sweep.html"
    out = mlws("report", "--sweep", "1", "-o", str(page_file), cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            page.wait_for_function("document.querySelectorAll('.parcoords .axis-title').length >= 3", timeout=30000)
            axes = page.evaluate("[...document.querySelectorAll('.parcoords .axis-title')].map(e => e.textContent)")
            data = page.evaluate(
                "document.querySelector('.js-plotly-plot').data[0].dimensions.map(d => d.values.length)"
            )
            rows = page.evaluate("document.querySelectorAll('table tr').length")
        finally:
            browser.close()
    assert errors == []
    assert axes == ["data.batch_size", "model.lr", "val/acc"] and data == [4, 4, 4] and rows == 1 + 4


def test_kill_9_mid_sweep_then_resume_runs_exactly_what_is_missing(ws, env):
    driver = _start_sweep(ws, env, *SHORT, "model.lr=1e-3,3e-3,1e-2", "data.batch_size=32,64", "--parallel", "2")
    try:
        wait_for(
            lambda: _settled_running_trial(ws, driver.pid, succeeded=2),
            timeout=240,
            what="two trials done and later ones running",
        )
    finally:
        driver.kill()  # SIGKILL: no cleanup at all
        driver.communicate()
    before = {r["id"]: r for r in _runs(ws, env)}
    assert 3 <= len(before) <= 4
    kept = {i: (Path(r["run_dir"]) / "spec.json").read_bytes() for i, r in before.items()}
    done = sum(r["status"] == "succeeded" for r in before.values())
    assert mlws_json("sweeps", cwd=ws, env=env)[0]["status"] == "interrupted"

    out = mlws("sweep", "1", "--resume", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    # every trial that was running outlived its driver: waited for (or already done), never rerun
    assert out.stdout.count("already succeeded") + out.stdout.count("still running from before") == len(before)
    assert out.stdout.count("already succeeded") >= done
    after = _runs(ws, env)
    assert len(after) == 6 and all(r["status"] == "succeeded" for r in after)
    with _registry(ws) as db:
        assert db.execute("SELECT COUNT(DISTINCT trial_key) FROM runs WHERE sweep_id = 1").fetchone()[0] == 6
    assert sorted(r["trial_index"] for r in after) == [1, 2, 3, 4, 5, 6]
    assert len({r["run_dir"] for r in after}) == 6
    assert all((Path(before[i]["run_dir"]) / "spec.json").read_bytes() == kept[i] for i in before)
    assert mlws_json("sweeps", cwd=ws, env=env)[0]["status"] == "finished"


def test_ctrl_c_stops_the_running_trial_and_resume_reruns_it(ws, env):
    driver = _start_sweep(
        ws, env, *SHORT, "trainer.max_epochs=3", "trainer.limit_train_batches=1.0", "model.lr=1e-3,3e-3"
    )
    try:
        wait_for(
            lambda: _settled_running_trial(ws, driver.pid, succeeded=0, training=True),
            timeout=120,
            what="trial 1 running",
        )
        driver.send_signal(signal.SIGINT)
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130, err
    assert "sweep 1 interrupted" in err and "mlws sweep 1 --resume" in err and "Traceback" not in err
    (stopped,) = _runs(ws, env)
    assert stopped["status"] == "stopped"
    assert (Path(stopped["run_dir"]) / "checkpoints" / "last.ckpt").exists()
    assert mlws_json("sweeps", cwd=ws, env=env)[0]["status"] == "interrupted"

    out = mlws("sweep", "1", "--resume", "--json", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    runs = _runs(ws, env)
    assert [(r["trial_index"], r["status"]) for r in runs] == [(1, "stopped"), (2, "succeeded"), (3, "succeeded")]
    assert json.loads(out.stdout)["unsucceeded"] == 0


def test_a_failing_trial_is_failed_the_others_finish_and_max_failures_ends_a_sweep(ws, env):
    optimizers = "model.optimizer._target_=torch.optim.SGD,torch.optim.NoSuchOptimizer,torch.optim.Adam"
    out = mlws("train", "-m", *SHORT, optimizers, "--max-failures", "0", cwd=ws, env=env)
    assert out.returncode == 1 and "1 trials failed (max_failures=0)" in out.stderr, out.stderr
    assert [(r["trial_index"], r["status"]) for r in _runs(ws, env)] == [(1, "succeeded"), (2, "failed")]
    assert "NoSuchOptimizer" in _runs(ws, env)[1]["error"]

    out = mlws("sweep", "1", "--resume", "--max-failures", "3", cwd=ws, env=env)
    assert out.returncode == 1, out.stderr  # finished, with a trial that never succeeded
    runs = _runs(ws, env)
    assert [(r["trial_index"], r["status"]) for r in runs] == [
        (1, "succeeded"),
        (2, "failed"),
        (3, "failed"),
        (4, "succeeded"),
    ]
    assert mlws_json("sweeps", cwd=ws, env=env)[0]["status"] == "finished"


def test_optuna_sweep_resumed_after_kill_completes_n_trials(ws, env):
    args = [
        *SHORT,
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.sampler.seed=0",
        "model.lr=interval(1e-4,1e-2)",
        "--parallel",
        "2",
    ]
    driver = _start_sweep(ws, env, *args)
    try:
        wait_for(
            lambda: len([r for r in _runs(ws, env) if r["status"] == "succeeded"]) >= 2,
            timeout=240,
            what="two Optuna trials done",
        )
    finally:
        driver.kill()
        driver.communicate()

    out = mlws("train", "-m", *args, "--resume", cwd=ws, env=env)  # the same command, resumed
    assert out.returncode == 0, out.stderr
    import optuna

    study = optuna.load_study(study_name="mlws-sweep-1", storage=f"sqlite:///{ws / '.mlws' / 'registry.db'}")
    states = [t.state.name for t in study.trials]
    assert states.count("COMPLETE") == 6 and "RUNNING" not in states
    runs = _runs(ws, env)
    assert sum(r["status"] == "succeeded" for r in runs) == 6
    assert len({r["id"] for r in runs}) == len(runs) and len({r["run_dir"] for r in runs}) == len(runs)
    # every completed Optuna trial is one succeeded run, and reported that run's metric
    by_number = {
        r["study_trial"]: r
        for r in (
            dict(x)
            for x in _registry(ws).execute(
                "SELECT study_trial, metrics FROM runs WHERE sweep_id = 1 AND status = 'succeeded'"
            )
        )
    }
    for t in study.trials:
        if t.state.name == "COMPLETE" and t.number in by_number:
            assert t.value == pytest.approx(json.loads(by_number[t.number]["metrics"])["val/acc"])
    assert sum(t.number in by_number for t in study.trials if t.state.name == "COMPLETE") == 6
    assert not any(p.suffix == ".db" for p in ws.iterdir())
