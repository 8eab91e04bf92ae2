"""`mlws plan -o DIR` (issue 24, point 7): the command printed matches the task (`sky jobs launch` for
a managed task, whose recovery settings a plain `sky launch` ignores; a cluster task carries autostop
with down in its YAML), and the plan says which guards need mlws on the node. SkyPilot's own CLI takes
the printed command (fake catalog, recorded API server: nothing reaches a cloud)."""

import shlex

import pytest
import yaml

from ..support.skypilot_cli import V100x2, calls, sky_cli, sky_mlws

pytestmark = [pytest.mark.sky]


def test_fake_catalog_a_managed_plan_prints_sky_jobs_launch_and_skypilots_cli_takes_it(ws, env, tmp_path):
    out = sky_mlws(
        ws,
        env,
        tmp_path,
        "plan",
        *V100x2,
        "compute.max_runtime_minutes=60",
        "compute.max_cost=20",
        "-o",
        str(tmp_path / "plan"),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(l for l in out.stdout.splitlines() if "launch it by hand with:" in l)
    command = shlex.split(line.split("launch it by hand with:", 1)[1])
    assert command[:3] == ["sky", "jobs", "launch"] and command[-1] == str(tmp_path / "plan" / "task.yaml")
    assert "sky launch " not in out.stdout
    assert "guards that need mlws on the node" in out.stdout and "the cost limit ($20.00 at $6.12/hour" in out.stdout
    assert "the time limit (60 min at a batch end, then a hard stop)" in out.stdout
    task = yaml.safe_load((tmp_path / "plan" / "task.yaml").read_text())
    assert task["envs"]["MLWS_HOURLY_PRICE"] == "6.12"  # the cost guard has a price without mlws's launch
    record = tmp_path / "api.json"
    launched = sky_cli(ws, env, tmp_path, *command[1:3], "-y", *command[3:], record=record)
    assert launched.returncode == 0, (launched.stdout + launched.stderr)[-2000:]
    (sent,) = calls(record, "/jobs/launch")
    body = list(yaml.safe_load_all(sent["json"]["task"]))[-1]
    assert body["resources"]["job_recovery"]["recover_on_exit_codes"] == [75]
    assert sent["json"]["name"] == command[command.index("--name") + 1]


def test_fake_catalog_a_cluster_plan_prints_sky_launch_with_autostop_down_in_the_yaml(ws, env, tmp_path):
    out = sky_mlws(ws, env, tmp_path, "plan", *V100x2, "compute.managed=false", "-o", str(tmp_path / "plan"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "launch it by hand with: sky launch -c mlws-plan-" in out.stdout and "sky jobs launch" not in out.stdout
    assert "autostop after 10 idle minutes, then the cluster is torn down" in out.stdout
    task = yaml.safe_load((tmp_path / "plan" / "task.yaml").read_text())
    assert task["resources"]["autostop"] == {"idle_minutes": 10, "down": True}
    assert "job_recovery" not in task["resources"]
