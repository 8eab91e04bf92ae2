"""A cloud run's cost is its node's spend ledger, across three spot preemptions: the laptop launches
through SkyPilot's recorded API (no cloud), the fourth VM's job is played by mlws's real node entry
point (`python -m mlws.compute.sky.node_run`) on this machine with a fake price, after three earlier
VMs (at fake prices, one in another region) left their segments in the run's ledger; the run folder
is uploaded to an S3-compatible server on loopback (moto) as the bucket mount would, and the laptop's
`mlws runs --refresh` reads the outcome and the ledger back through boto3. Not AWS, no VM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ..support.helpers import mlws, mlws_json
from ..support.s3_server import S3Server
from ..support.skypilot_cli import V100x2, sky_mlws

pytestmark = [pytest.mark.sky]

BUCKET = "s3://team-bucket/mlws"
EARLIER = [
    {"seconds": 600.0, "hourly_price": 2.0, "region": "us-east-1"},  # preempted
    {"seconds": 900.0, "hourly_price": 2.0, "region": "us-east-1"},  # preempted
    {"seconds": 300.0, "hourly_price": 3.5, "region": "eu-west-1"},
]  # recovered elsewhere, preempted
FOURTH_PRICE = 2.5
GAP_S = 30.0  # the last save of the third VM to the start of the fourth's job


def test_a_cloud_runs_cost_is_its_ledger_across_three_preemptions(ws, env, tmp_path):
    s3 = S3Server(tmp_path / "moto.log")
    try:
        s3.client().create_bucket(Bucket="team-bucket")
        env = {**env, **s3.env}
        out = sky_mlws(
            ws,
            env,
            tmp_path,
            "train",
            *V100x2,
            f"compute.bucket={BUCKET}",
            "trainer.max_epochs=1",
            "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=2",
            "logger=none",
            "--detach",
            record=tmp_path / "launch.json",
        )
        assert out.returncode == 0, out.stderr[-2000:]
        spec = json.loads((ws / "runs" / "1" / "spec.json").read_text())
        node = tmp_path / "node"
        node.mkdir()
        ledger = node / "spend.json"
        ledger.write_text(
            json.dumps(
                {"billed_seconds": 1800.0, "hourly_price": 3.5, "segments": EARLIER, "recovery_gaps_s": [40.0, 55.0]}
            )
        )
        saved = time.time() - GAP_S
        os.utime(ledger, (saved, saved))
        job = subprocess.run(
            [sys.executable, "-m", "mlws.compute.sky.node_run", str(ws / "runs" / "1" / "spec.json")],
            cwd=ws,
            capture_output=True,
            text=True,
            timeout=300,
            env={
                **env,
                "MLWS_REMOTE": "1",
                "MLWS_RUN_DIR": str(node),
                "MLWS_HOURLY_PRICE": str(FOURTH_PRICE),
                "MLWS_LAUNCHED_AT": f"{saved:.0f}",
            },
        )
        assert job.returncode == 0, job.stderr[-3000:]
        kept = json.loads(ledger.read_text())
        assert len(kept["segments"]) == 4 and len(kept["recovery_gaps_s"]) == 3
        fourth = kept["segments"][-1]
        assert fourth["hourly_price"] == FOURTH_PRICE and fourth["seconds"] >= GAP_S - 2
        assert kept["billed_seconds"] == pytest.approx(1800.0 + fourth["seconds"], abs=0.2)
        assert s3.put_folder(node, "team-bucket", f"mlws/runs/1-{spec['uid']}") > 3

        refreshed = sky_mlws(
            ws, env, tmp_path, "runs", "--json", "--refresh", record=tmp_path / "r.json", job_status="SUCCEEDED"
        )
        assert refreshed.returncode == 0, refreshed.stderr[-2000:]
        assert json.loads(refreshed.stdout)[0]["status"] == "succeeded"
    finally:
        s3.stop()
    # read from the registry alone from here (the bucket is gone)
    by_hand = (sum(s["seconds"] * s["hourly_price"] for s in EARLIER) + fourth["seconds"] * FOURTH_PRICE) / 3600.0
    cost = mlws_json("show", "1", cwd=ws, env=env)["cost"]
    assert cost["usd"] == pytest.approx(by_hand, rel=0.01), cost
    assert cost["hours"] == pytest.approx(kept["billed_seconds"] / 3600.0, rel=0.01)
    assert "ledger" in cost["basis"] and "$3.5/h" in cost["basis"]
    assert mlws_json("cost", cwd=ws, env=env)["total"]["usd"] == pytest.approx(by_hand, rel=0.01)
    chain = mlws("lineage", "--best", "val/acc", cwd=ws, env=env).stdout
    assert f"total to reach run 1: ${by_hand:.2f}" in chain
