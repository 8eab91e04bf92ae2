"""Driving mlws and SkyPilot's own CLI against the fakes (tests/support/skypilot_fakes.py): SkyPilot's
validation on a synthetic catalog, its API server answered and recorded. No cloud is reached."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import REPO

FAKES = REPO / "tests" / "support" / "skypilot_fakes.py"


def _sky_api_servers_of(tmp: Path) -> list:
    """SkyPilot API server processes started from this test: their HOME is in the test's own folder
    (every sky_mlws/sky_cli call gives the SDK HOME=tmp/home), so another test's or a developer's
    server is never touched."""
    import psutil  # a SkyPilot dependency

    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if "sky.server.server" in " ".join(p.info["cmdline"] or []) and p.environ().get("HOME", "").startswith(
                str(tmp)
            ):
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


@pytest.fixture(autouse=True)
def no_real_skypilot_server(tmp_path):
    """Every SDK call here goes to the recorder: none may start a real SkyPilot API server. One that
    this test started is stopped (only that one), and the test fails."""
    yield
    import psutil

    started = _sky_api_servers_of(tmp_path)
    for p in started:
        p.kill()
    psutil.wait_procs(started, timeout=30)
    assert not started, "a test started a real SkyPilot API server"


# the PyTorch index the plan checks: none here (offline: the plan says it was not checked) unless a test
# serves one on loopback (tests/e2e/test_cloud_torch_index.py)
NO_TORCH_INDEX = "http://127.0.0.1:9/whl"
V100x2 = ["+experiment=model_12", "compute=sky", "compute.accelerators=V100:2"]


def sky_mlws(
    ws: Path,
    env: dict,
    tmp: Path,
    *args,
    record: Path | None = None,
    job_status: str = "RUNNING",
    job_log: Path | None = None,
):
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    pre = (["--record", str(record)] if record else []) + ["--job-status", job_status]
    pre += ["--job-log", str(job_log)] if job_log else []
    return subprocess.run(
        [sys.executable, str(FAKES), *pre, "--", *args],
        cwd=ws,
        capture_output=True,
        text=True,
        env={"MLWS_TORCH_INDEX_BASE": NO_TORCH_INDEX, **env, "HOME": str(home), "SKY_RUNTIME_DIR": str(home)},
        timeout=300,
    )


def job(ws: Path, run_id: int) -> str:
    """A run's SkyPilot job/cluster name: its number and its unique id (from the frozen spec)."""
    uid = json.loads((ws / "runs" / str(run_id) / "spec.json").read_text())["uid"]
    assert len(uid) == 16
    return f"mlws-{run_id}-{uid[:8]}"


def calls(record: Path, path: str) -> list[dict]:
    return [c for c in json.loads(record.read_text()) if c["path"] == path]


def sky_cli(ws: Path, env: dict, tmp: Path, *args, record: Path):
    """SkyPilot's own `sky` CLI, in the fakes' process (fake catalog, recorded API server)."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, str(FAKES), "--record", str(record), "--sky", "--", *args],
        cwd=ws,
        capture_output=True,
        text=True,
        env={**env, "HOME": str(home), "SKY_RUNTIME_DIR": str(home)},
        timeout=300,
    )
