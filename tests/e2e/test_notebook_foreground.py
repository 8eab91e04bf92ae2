"""A foreground `mlws notebook` stopped with SIGTERM (a container stop, systemd) takes its Jupyter
down with it and exits 143, as `mlws serve` does; nothing is left running or listed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil

from ..support.helpers import free_port


def test_sigterm_stops_jupyter_and_exits_143(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("defaults: []\n")
    env = {**os.environ, "MLWS_WORKSPACE": str(tmp_path)}
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlws.cli.main",
            "notebook",
            "start",
            "--port",
            str(free_port()),
            "--idle-minutes",
            "0",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    state_file = tmp_path / ".mlws" / "notebooks" / "local" / "state.json"
    jupyter = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and cli.poll() is None:
            if state_file.exists():
                try:
                    jupyter = json.loads(state_file.read_text())["pid"]
                except (ValueError, KeyError):
                    pass
            if jupyter and "/lab" in (cli.stdout.readline() if cli.stdout else ""):
                break
            time.sleep(0.1)
        assert jupyter and cli.poll() is None, "the notebook did not start"
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=60) == 143
        assert not psutil.pid_exists(jupyter) or psutil.Process(jupyter).status() == psutil.STATUS_ZOMBIE
        assert not state_file.exists()
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(timeout=10)
        if jupyter and psutil.pid_exists(jupyter):
            os.killpg(jupyter, signal.SIGKILL)
