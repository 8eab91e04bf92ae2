"""A stopped run keeps its metrics and best checkpoint as a finished one does, and a foreground
`mlws train` stopped by Ctrl-C exits 130 (SIGTERM: 143), so `mlws train ... && deploy` stops there.

Real CLI processes, real Lightning on the bundled digits, W&B offline; each process is started in
its own process group (as a terminal's foreground job is), and only that group gets the signal."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.helpers import mlws, mlws_json, wait_for

# Short epochs so validations (and best checkpoints) come every second or two; never ends by itself.
LONG = [
    "+experiment=model_12",
    "trainer.max_epochs=1000",
    "trainer.limit_train_batches=4",
    "trainer.limit_val_batches=3",
    "monitor.hardware_interval_s=0",
]


def start(ws: Path, env: dict, tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "terminal.txt"
    with out.open("w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlws.cli.main", "train", *args],
            cwd=ws,
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return proc, out


def validations(ws: Path, run_id: int = 1) -> list[dict]:
    path = ws / "runs" / str(run_id) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def assert_recorded_like_a_finished_run(ws: Path, env: dict, run: dict) -> None:
    lines = validations(ws, run["id"])
    assert run["status"] == "stopped"
    # the metrics of the last validation, as a finished run records them
    assert run["metrics"]["val/acc"] == pytest.approx(lines[-1]["val/acc"])
    assert run["metrics"]["val/loss"] == pytest.approx(lines[-1]["val/loss"])
    ckpts = run["artifacts"]["checkpoints"]
    assert set(ckpts) == {"best", "best_score", "last"}, ckpts  # named as documented, not by file name
    assert Path(ckpts["best"]).is_file() and Path(ckpts["last"]).is_file()
    assert ckpts["best_score"] == pytest.approx(max(line["val/acc"] for line in lines))
    # what reads the registry sees the run's best: the runs table and the best-run query
    listed = {r["id"]: r for r in mlws_json("runs", cwd=ws, env=env)}
    assert listed[run["id"]]["metrics"]["val/acc"] == pytest.approx(lines[-1]["val/acc"])


def test_ctrl_c_on_a_foreground_run_exits_130_and_keeps_its_results(ws, env, tmp_path):
    proc, out = start(ws, env, tmp_path, *LONG)
    try:
        wait_for(lambda: len(validations(ws)) >= 2, timeout=180, what="two validations")
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert proc.wait(timeout=120) == 130, out.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = out.read_text()
    assert "model_12 · stopped" in text and "Traceback" not in text, text[-3000:]
    assert "Detected KeyboardInterrupt" not in text  # Lightning's notice is in the run's log
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert "Ctrl-C" in run["stop_reason"]
    assert_recorded_like_a_finished_run(ws, env, run)


def test_mlws_stop_on_a_foreground_run_exits_143_and_keeps_its_results(ws, env, tmp_path):
    proc, out = start(ws, env, tmp_path, *LONG)
    try:
        wait_for(lambda: len(validations(ws)) >= 2, timeout=180, what="two validations")
        stopped = mlws("stop", "1", cwd=ws, env=env)  # SIGTERM to the foreground process
        assert stopped.returncode == 0, stopped.stderr
        assert proc.wait(timeout=120) == 143, out.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert "SIGTERM" in run["stop_reason"]
    assert_recorded_like_a_finished_run(ws, env, run)


def test_a_detached_run_stopped_keeps_its_results(ws, env):
    """The issue's steps: --detach, mlws stop, mlws show --json."""
    out = mlws("train", *LONG, "--detach", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    wait_for(lambda: len(validations(ws)) >= 2, timeout=180, what="two validations")
    listing = mlws("runs", cwd=ws, env=env).stdout
    assert "running" in listing and "cluster or cloud" not in listing  # a local run: no backend to ask
    assert mlws("stop", "1", cwd=ws, env=env).returncode == 0
    assert_recorded_like_a_finished_run(ws, env, mlws_json("show", "1", cwd=ws, env=env))
    shown = mlws("show", "1", cwd=ws, env=env).stdout
    assert "best ckpt: " in shown and "(val/acc 0." in shown and "last ckpt: " in shown and "best_score" not in shown


def test_train_help_names_the_exit_codes(ws, env):
    text = mlws("train", "--help", cwd=ws, env=env).stdout
    assert "130" in text and "143" in text


def test_ctrl_c_right_after_the_first_step_exits_130(ws, env, tmp_path):
    """Stopped before any validation: no metric to record yet, but the steps taken are kept."""
    proc, out = start(ws, env, tmp_path, "+experiment=model_12", "trainer.max_epochs=1000", "logger=none")
    try:
        wait_for(lambda: (ws / "runs/1/progress.json").exists(), timeout=180, what="the first training step")
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 130, out.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "stopped" and "Ctrl-C" in run["stop_reason"]
    assert Path(run["artifacts"]["checkpoints"]["last"]).is_file()  # where it got to, to resume from
    assert "Traceback" not in out.read_text()


def test_a_detached_run_stopped_in_its_first_second_is_stopped_not_failed(ws, env):
    """The stop may land before the worker handles signals (SIGTERM's default ends it at once): the
    run ended because it was asked to, so it is `stopped` and `mlws stop` succeeds."""
    out = mlws("train", *LONG, "--detach", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    stopped = mlws("stop", "1", cwd=ws, env=env)
    assert stopped.returncode == 0, stopped.stderr
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "stopped" and run["error"] is None, run
