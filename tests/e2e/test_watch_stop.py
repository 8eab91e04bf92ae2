"""A detached training run, watched live in a real terminal (tmux), snapshotted, then stopped."""

import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ..support.helpers import mlws, mlws_json, wait_for, wandb_records

pytestmark = [pytest.mark.tmux]


@pytest.fixture
def tmux():
    socket = f"mlws-test-{uuid.uuid4().hex[:8]}"
    run = lambda *a: subprocess.run(["tmux", "-L", socket, *a], capture_output=True, text=True, timeout=30)
    yield run
    run("kill-server")


def _gpus_here() -> int:
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml.nvmlDeviceGetCount()
    except Exception:  # no driver: no GPU
        return 0


def test_watch_live_then_stop(ws, env, tmux):
    out = mlws(
        "train",
        "+experiment=model_12",
        "trainer.max_epochs=1000",
        "monitor.hardware_interval_s=0.2",
        "--detach",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "run 1 started in the background" in out.stdout
    try:
        wait_for(
            lambda: (ws / "runs/1/metrics.jsonl").exists() and (ws / "runs/1/hardware.jsonl").exists(),
            timeout=120,
            what="first metrics",
        )
        snap = mlws_json("watch", "1", "--once", cwd=ws, env=env)
        assert snap["status"] == "running"
        assert "val/acc" in snap["metrics"] and "train/loss" in snap["metrics"]
        assert snap["hardware"]["cpu_percent"] >= 0 and snap["hardware"]["memory_mb"] > 10
        assert len(snap["hardware"]["gpus"]) == _gpus_here()  # one entry per GPU NVML sees (none here)
        assert snap["progress"]["total_steps"] == 1000 * 23 and snap["progress"]["step"] > 0
        assert 0 <= snap["hardware"]["data_wait_fraction"] <= 1  # data wait vs compute, recorded
        # warnings reach scripts too: with a zero stall threshold the running run is "stalled"
        stalled = mlws_json("watch", "1", "--once", "--stall-minutes", "0", cwd=ws, env=env)
        assert any("stalled?" in w for w in stalled["warnings"]), stalled["warnings"]

        # the live view in a real terminal refreshes with new values
        envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k in ("PATH", "NETRC", "PYTHONPATH"))
        cmd = f"cd {shlex.quote(str(ws))} && env {envs} {shlex.quote(sys.executable)} -m mlws.cli.main watch 1 --interval 0.3; echo watch exited $?; cat"
        tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "60", cmd)
        screen = lambda: tmux("capture-pane", "-p", "-t", "w").stdout
        first = wait_for(lambda: (s := screen()) and "steps/s" in s and s, timeout=60, what="watch screen")
        step_line = lambda s: next(l for l in s.splitlines() if l.startswith("step "))
        wait_for(
            lambda: "steps/s" in screen() and step_line(screen()) != step_line(first),
            timeout=60,
            what="the step count to change on screen",
        )
        assert "CPU (system)" in first and "run 1 · model_12 · running" in first

        stopped = mlws_json("stop", "1", cwd=ws, env=env)
        assert stopped["status"] == "stopped" and "stopped by user" in stopped["stop_reason"]
        # the live view notices and ends on the final state
        wait_for(lambda: "watch exited 0" in screen(), timeout=30, what="watch to end with the run")
        assert "run 1 · model_12 · stopped" in screen()
    finally:
        subprocess.run([sys.executable, "-m", "mlws.cli.main", "stop", "1"], cwd=ws, env=env, capture_output=True)
    run = mlws_json("show", "1", cwd=ws, env=env)
    last = Path(run["artifacts"]["checkpoints"]["last"])
    assert last.is_file() and last.parent == ws / "runs/1/checkpoints"
    exits = [r for r in wandb_records(ws / "runs/1", "exit")]
    assert exits and exits[-1].exit.exit_code == 0


def test_stop_refuses_a_finished_run(ws, env):
    assert mlws("train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", cwd=ws, env=env).returncode == 0
    out = mlws("stop", "1", cwd=ws, env=env)
    assert out.returncode == 2 and "run 1 is not running (status: succeeded)" in out.stderr
