"""Runs that raise are failed with the error; killed runs do not stay 'running'; SIGTERM stops."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.helpers import mlws, mlws_json, wait_for

FAILING_MODULE = """
from mlws.examples.digits import DigitsClassifier

class Exploding(DigitsClassifier):
    def training_step(self, batch, batch_idx):
        if self.global_step == 3:
            raise RuntimeError("loss went to the moon")
        return super().training_step(batch, batch_idx)
"""


def test_a_run_that_raises_is_recorded_failed(ws, env):
    (ws / "boom.py").write_text(FAILING_MODULE)
    out = mlws("train", "+experiment=model_04", "model._target_=boom.Exploding", "logger=none", cwd=ws, env=env)
    assert out.returncode == 1
    assert "run 1 failed: RuntimeError: loss went to the moon" in out.stdout + out.stderr
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "failed" and "loss went to the moon" in run["error"] and run["ended_at"]
    assert "Traceback" in (Path(run["run_dir"]) / "error.log").read_text()


def test_a_missing_target_fails_with_the_key_named(ws, env):
    out = mlws("train", "+experiment=model_04", "model.net._target_=nowhere.Net", "logger=none", cwd=ws, env=env)
    assert out.returncode == 1 and "Traceback" not in out.stdout + out.stderr
    assert (
        "run 1 failed: model.net: cannot build 'nowhere.Net': ModuleNotFoundError: No module named 'nowhere'"
        in out.stderr
    )  # the nested key, its target and the real cause


def _start_long_run(ws, env, *extra):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlws.cli.main",
            "train",
            "+experiment=model_12",
            "trainer.max_epochs=500",
            "logger=none",
            *extra,
        ],
        cwd=ws,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: (ws / "runs" / "1" / "metrics.jsonl").exists(), timeout=120, what="first validation")
    return proc


def test_a_killed_run_is_detected_by_the_next_command(ws, env):
    proc = _start_long_run(ws, env)
    assert mlws_json("runs", cwd=ws, env=env)[0]["status"] == "running"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    run = mlws_json("runs", cwd=ws, env=env)[0]
    assert run["status"] == "failed" and "killed" in run["error"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])  # SIGINT: Ctrl-C in the terminal
def test_sigterm_or_ctrl_c_stops_the_run_and_keeps_a_checkpoint(sig, ws, env):
    proc = _start_long_run(ws, env)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "stopped"
    assert Path(run["artifacts"]["checkpoints"]["last"]).is_file()


def test_concurrent_cli_runs_are_all_recorded(ws, env):
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlws.cli.main",
                "train",
                "+experiment=model_01",
                "trainer.max_epochs=1",
                "logger=none",
            ],
            cwd=ws,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    runs = mlws_json("runs", cwd=ws, env=env)
    assert [r["id"] for r in runs] == [1, 2, 3] and {r["status"] for r in runs} == {"succeeded"}
    assert len({r["run_dir"] for r in runs}) == 3


def test_plan_records_nothing_and_hardware_sampling_can_be_off(ws, env):
    planned = mlws("plan", "+experiment=model_01", cwd=ws, env=env)
    assert planned.returncode == 0 and "model:" in planned.stdout
    assert mlws_json("runs", cwd=ws, env=env) == [] and not (ws / "runs").exists()
    out = mlws(
        "train",
        "+experiment=model_01",
        "trainer.max_epochs=1",
        "logger=none",
        "monitor.hardware_interval_s=0",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    run_dir = ws / "runs" / "1"
    assert (run_dir / "metrics.jsonl").exists() and not (run_dir / "hardware.jsonl").exists()


def test_a_stopped_run_is_tagged_stopped_in_wandb_with_its_config(ws, env):
    """W&B's own offline run file (read with wandb's reader): the `stopped` tag and the logged config."""
    from ..support.helpers import wandb_records

    proc = _start_long_run(ws, env, "logger=wandb")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    runs = [r.run for r in wandb_records(ws / "runs" / "1", "run")]
    assert runs and "stopped" in runs[-1].tags and "model_12" in runs[-1].tags
    config = {item.key: json.loads(item.value_json) for item in runs[0].config.update}
    assert config["model"]["lr"] == mlws_json("show", "1", cwd=ws, env=env)["config"]["model"]["lr"]
    assert config["mlws"]["run_id"] == 1
