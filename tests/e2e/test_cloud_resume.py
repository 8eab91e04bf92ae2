"""`mlws resume N` of a cloud run (issue 28): a new managed job for the same run, launched from its frozen
spec into the same run folder in the bucket, whose worker carries on from last.ckpt as after a spot
recovery. Faked: SkyPilot's API server (tests/support/skypilot_fakes.py records what would be launched, on a
synthetic catalog) and the bucket (an S3-compatible server on loopback, tests/support/s3_server.py, read through
boto3). Not a cloud: no node runs here; the node's side of a resume is the spot recovery's, tested with
the simulated node (tests/e2e/test_sim_node.py)."""

import json
from pathlib import Path

import pytest
import yaml

from ..support.helpers import mlws_json
from ..support.s3_server import S3Server
from ..support.skypilot_cli import V100x2, calls, sky_mlws

pytestmark = [pytest.mark.sky]

BUCKET = "s3://team-bucket/mlws"
BILLING = ("MLWS_LAUNCHED_AT",)  # the launch's own time: differs between two launches


@pytest.fixture
def s3(tmp_path):
    server = S3Server(tmp_path / "moto.log")
    try:
        server.client().create_bucket(Bucket="team-bucket")
        yield server
    finally:
        server.stop()


def _task(record: Path) -> dict:
    (sent,) = calls(record, "/jobs/launch")  # exactly one job launched
    return list(yaml.safe_load_all(sent["json"]["task"]))[-1]


def _failed_run(ws, env, tmp_path, *overrides) -> dict:
    """A detached cloud run, then recorded failed from SkyPilot's job table (a refresh)."""
    out = sky_mlws(
        ws, env, tmp_path, "train", *V100x2, *overrides, "logger=none", "--detach", record=tmp_path / "launch.json"
    )
    assert out.returncode == 0, out.stderr[-2000:]
    refreshed = sky_mlws(
        ws, env, tmp_path, "runs", "--json", "--refresh", record=tmp_path / "refresh.json", job_status="FAILED"
    )
    (listed,) = json.loads(refreshed.stdout)
    assert listed["status"] == "failed", refreshed.stderr[-2000:]
    return mlws_json("show", "1", cwd=ws, env=env)


def test_loopback_s3_and_recorded_skypilot_api_resume_launches_one_job_into_the_same_run_folder(ws, env, tmp_path, s3):
    env = {**env, **s3.env}
    run = _failed_run(ws, env, tmp_path, f"compute.bucket={BUCKET}")
    spec = json.loads((ws / "runs" / "1" / "spec.json").read_text())
    url = f"{BUCKET}/runs/1-{spec['uid']}"
    assert run["artifacts"]["bucket_run"] == url

    # no last.ckpt in the bucket yet: refused, nothing launched or recorded
    none = sky_mlws(ws, env, tmp_path, "resume", "1", "--detach", record=tmp_path / "r0.json", job_status="FAILED")
    assert none.returncode == 2 and "Traceback" not in none.stderr, none.stderr[-2000:]
    assert f"has no last checkpoint ({url}/checkpoints/last.ckpt)" in none.stderr.strip().splitlines()[-1]
    assert calls(tmp_path / "r0.json", "/jobs/launch") == []

    # what the node's bucket mount wrote back before the VM went (the laptop only asks whether it is there)
    (tmp_path / "node" / "checkpoints").mkdir(parents=True)
    (tmp_path / "node" / "checkpoints" / "last.ckpt").write_bytes(b"a checkpoint")
    (tmp_path / "node" / "result.json").write_text(json.dumps({"id": 1, "status": "failed", "error": "killed"}))
    s3.put_folder(tmp_path / "node", "team-bucket", url.split("team-bucket/", 1)[1])

    # SkyPilot still runs (or recovers) its job: two jobs must not write one folder
    busy = sky_mlws(ws, env, tmp_path, "resume", "1", "--detach", record=tmp_path / "r1.json", job_status="RUNNING")
    assert busy.returncode == 2 and "job 7 is still running" in busy.stderr, busy.stderr[-2000:]
    assert calls(tmp_path / "r1.json", "/jobs/launch") == []

    out = sky_mlws(ws, env, tmp_path, "resume", "1", "--detach", record=tmp_path / "r2.json", job_status="FAILED")
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"carries on from {url}/checkpoints/last.ckpt" in out.stderr
    assert "run 1 resumed in the background (launched on SkyPilot as managed job 7" in out.stdout
    resumed, first = _task(tmp_path / "r2.json"), _task(tmp_path / "launch.json")
    # the run's own task again, from its frozen spec: the same run id, run folder, job name and spec
    assert resumed["envs"]["MLWS_RUN_ID"] == "1"
    assert resumed["envs"]["MLWS_RUN_DIR"] == f"/mlws/bucket/mlws/runs/1-{spec['uid']}"
    assert resumed["file_mounts"]["/mlws/bucket"]["source"] == "s3://team-bucket"
    assert Path(resumed["file_mounts"]["/mlws/spec.json"]) == ws / "runs" / "1" / "spec.json"
    assert {k: v for k, v in resumed["envs"].items() if k not in BILLING} == {
        k: v for k, v in first["envs"].items() if k not in BILLING
    }
    assert {k: v for k, v in resumed.items() if k != "envs"} == {k: v for k, v in first.items() if k != "envs"}

    (listed,) = mlws_json("runs", cwd=ws, env=env)  # one run id
    assert listed["id"] == 1 and listed["status"] == "running"
    again = mlws_json("show", "1", cwd=ws, env=env)
    assert again["run_dir"] == run["run_dir"] and again["started_at"] == run["started_at"]
    assert again["artifacts"]["compute"]["job_id"] == 7 and again["artifacts"]["bucket_run"] == url
    (entry,) = again["artifacts"]["resumes"]
    assert entry["from"] == "failed" and entry["forced"] is False and url in entry["note"]

    # the earlier job's outcome is set aside: the new job's end is its own, not the old result.json's
    done = sky_mlws(
        ws, env, tmp_path, "runs", "--json", "--refresh", record=tmp_path / "r3.json", job_status="SUCCEEDED"
    )
    (listed,) = json.loads(done.stdout)
    assert listed["status"] == "succeeded", done.stderr[-2000:]
    kept = s3.client().get_object(Bucket="team-bucket", Key=f"{url.split('team-bucket/', 1)[1]}/result.json")
    assert json.loads(kept["Body"].read())["earlier"]["error"] == "killed"


def test_recorded_skypilot_api_a_run_without_a_bucket_is_refused_in_one_line(ws, env, tmp_path):
    run = _failed_run(ws, env, tmp_path)
    out = sky_mlws(ws, env, tmp_path, "resume", "1", record=tmp_path / "r.json", job_status="FAILED")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    (line,) = out.stderr.strip().splitlines()
    assert "without compute.bucket" in line and "set compute.bucket" in line
    assert calls(tmp_path / "r.json", "/jobs/launch") == [] and calls(tmp_path / "r.json", "/jobs/queue/v2") == []
    (listed,) = mlws_json("runs", cwd=ws, env=env)
    kept = mlws_json("show", "1", cwd=ws, env=env)
    assert listed["status"] == kept["status"] == "failed" and "resumes" not in kept["artifacts"]
    assert kept["artifacts"]["compute"] == run["artifacts"]["compute"]


def test_a_job_mlws_resume_launched_bills_from_its_launch_not_from_the_last_save(tmp_path):
    """The ledger's recovery gap: a spot recovery's counts from the last save; a resumed run's from
    its own launch (the days it lay failed were not billed)."""
    import os
    import time

    from mlws.compute.sky.node_run import bill_recovery_gap

    ledger = tmp_path / "spend.json"
    ledger.write_text(json.dumps({"billed_seconds": 100.0}))
    saved = time.time() - 86_400  # saved a day ago
    os.utime(ledger, (saved, saved))
    # launched an hour before the last save (the run's first launch): the gap is since the save
    assert bill_recovery_gap(tmp_path, now=saved + 60, launched_at=saved - 3600) == pytest.approx(60)
    os.utime(ledger, (saved, saved))
    # mlws resume launched it 90 s ago, a day after the save: 90 s of provisioning and setup
    assert bill_recovery_gap(tmp_path, now=saved + 86_400, launched_at=saved + 86_310) == pytest.approx(90)
    assert json.loads(ledger.read_text())["billed_seconds"] == pytest.approx(100 + 60 + 90)


def test_a_spec_that_would_launch_elsewhere_than_the_run_folder_is_refused():
    """The frozen spec must point the job at the folder whose last.ckpt it carries on from: another run's
    spec (another number or unique id, as after `make clean`) would start it from scratch elsewhere."""
    from mlws.compute.sky.resuming import same_folder
    from mlws.errors import MlwsError
    from mlws.spec import RunSpec

    spec = RunSpec(None, (), {"compute": {"bucket": BUCKET}}, "/ws", "train", "now", run_id=3, uid="ab" * 8)
    record = {"id": 3}
    same_folder(record, spec, f"{BUCKET}/runs/3-{'ab' * 8}")  # its own folder: carries on
    for url in (f"{BUCKET}/runs/3-{'cd' * 8}", f"{BUCKET}/runs/4-{'ab' * 8}"):
        with pytest.raises(MlwsError, match=f"not its run folder {url}: it cannot carry on there"):
            same_folder(record, spec, url)
    with pytest.raises(MlwsError, match="launches run 3 into None"):
        same_folder(record, RunSpec(None, (), {"compute": {}}, "/ws", "train", "now", run_id=3), url)
