"""Plan time (issue 24): a repeated `mlws plan compute=sky` of an unchanged task reuses SkyPilot's
validation and price from the workspace's .mlws/cache (mlws/compute/sky/plan_cache.py) without
importing SkyPilot; anything SkyPilot's answer depends on that changed (its catalog, its config) asks
it again, and a launch always asks it. SkyPilot's real library, synthetic catalog (skypilot_fakes)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..support.helpers import REPO
from ..support.skypilot_cli import V100x2, sky_mlws

pytestmark = [pytest.mark.sky]


def plan(ws, env, tmp_path, *args):
    """The plan's output, and whether its process imported SkyPilot (Python's import log)."""
    out = sky_mlws(ws, {**env, "PYTHONPROFILEIMPORTTIME": "1"}, tmp_path, "plan", *V100x2, *args)
    assert out.returncode == 0, out.stderr[-2000:]
    imported = any(line.rstrip().endswith("| sky") for line in out.stderr.splitlines())
    return out.stdout, imported


def chosen(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("# chosen:"))


def test_a_repeated_plan_reuses_skypilots_answer_without_importing_it(ws, env, tmp_path):
    first, imported = plan(ws, env, tmp_path)
    assert imported and "those of a plan" not in first
    assert chosen(first) == "# chosen: AWS p3.4xlarge-fake in us-east-1 × 1 node(s): $6.12/hour"
    again, imported = plan(ws, env, tmp_path)
    assert not imported, "a repeated plan imported SkyPilot"
    assert chosen(again) == chosen(first)
    assert yaml.safe_load(again.split("# chosen:")[0]) == yaml.safe_load(first.split("# chosen:")[0])
    assert "# note: SkyPilot's validation and price of this task are those of a plan" in again
    # another task (another accelerator count) is SkyPilot's to check: an invalid one still fails
    other = sky_mlws(ws, env, tmp_path, "plan", "+experiment=model_12", "compute=sky", "compute.accelerators=V100:3")
    assert other.returncode != 0 and "no cloud offering matches" in other.stderr, other.stderr[-2000:]


def test_a_changed_catalog_or_config_asks_skypilot_again(ws, env, tmp_path):
    plan(ws, env, tmp_path)
    assert plan(ws, env, tmp_path)[1] is False
    vms = tmp_path / "home" / ".sky" / "catalogs" / "v8" / "aws" / "vms.csv"
    os.utime(vms, (vms.stat().st_atime, vms.stat().st_mtime + 5))  # SkyPilot refreshed its catalog
    out, imported = plan(ws, env, tmp_path)
    assert imported and "those of a plan" not in out
    assert plan(ws, env, tmp_path)[1] is False
    (tmp_path / "home" / ".sky" / "config.yaml").write_text("allowed_clouds: [aws]\n")
    out, imported = plan(ws, env, tmp_path)
    assert imported and "those of a plan" not in out and "$6.12/hour" in chosen(out)


def test_a_launch_prices_with_skypilot_not_with_a_plans_answer(ws, env, tmp_path):
    plan(ws, env, tmp_path)
    entries = list((ws / ".mlws" / "cache" / "sky-plan").glob("*.json"))
    assert len(entries) == 1
    entry = json.loads(entries[0].read_text())
    entry["estimate"]["hourly_price"] = 99.0  # what a plan answers from is this entry
    entries[0].write_text(json.dumps(entry))
    assert "$99.00/hour" in chosen(plan(ws, env, tmp_path)[0])
    out = sky_mlws(ws, env, tmp_path, "train", *V100x2, "logger=none", "--detach", record=tmp_path / "launch.json")
    assert out.returncode == 0, out.stderr[-2000:]
    launch = [c for c in json.loads((tmp_path / "launch.json").read_text()) if c["path"] in ("/jobs/launch", "/launch")]
    envs = list(yaml.safe_load_all(launch[-1]["json"]["task"]))[-1]["envs"]
    assert float(envs["MLWS_HOURLY_PRICE"]) == 6.12


PROBE = """
import atexit, gc, sys
sys.path.insert(0, {repo!r})
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))  # runs after mlws's handler
import mlws.compute.sky.skypilot
if {with_sky}:
    import sky
"""


@pytest.mark.parametrize("with_sky", [True, False])
def test_no_garbage_collection_at_exit_once_skypilot_is_imported(with_sky, tmp_path):
    """~1 s of a cloud plan was the interpreter collecting SkyPilot's objects at exit."""
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(repo=str(REPO), with_sky=with_sky)],
        env={**os.environ, "HOME": str(home), "SKY_RUNTIME_DIR": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(tmp_path),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"frozen at exit: {with_sky}"
