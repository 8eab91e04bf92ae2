"""What the benchmarks share: a throwaway copy of the example workspace, an offline W&B
environment, and timing one `mlws train` from command start to its recorded timings."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MLWS = [sys.executable, "-m", "mlws.cli.main"]


def free_port() -> int:
    """A TCP port free on loopback now (the OS picks it; the server started next binds it)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_workspace(dest: Path) -> Path:
    shutil.copytree(REPO / "conf", dest / "conf")
    shutil.copytree(REPO / "experiments", dest / "experiments")
    return dest


def offline_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update({"WANDB_MODE": "offline", "WANDB_CONFIG_DIR": str(tmp / "wc"), "WANDB_CACHE_DIR": str(tmp / "wca")})
    return env


def train_timed(ws: Path, env: dict, overrides: list[str]) -> tuple[float, float, dict, dict]:
    """(start time, wall seconds, the run's record, its timing.json) for one `mlws train`."""
    start = time.time()
    subprocess.run(
        [*MLWS, "train", *overrides], cwd=ws, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wall = time.time() - start
    runs = json.loads(
        subprocess.run([*MLWS, "runs", "--json"], cwd=ws, env=env, check=True, capture_output=True, text=True).stdout
    )
    timing = json.loads((Path(runs[-1]["run_dir"]) / "timing.json").read_text())
    return start, wall, runs[-1], timing
