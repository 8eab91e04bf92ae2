"""A spot recovery may bring a job up in another region (EAGER_NEXT_REGION) at another price: the
launch passes the chosen instance type's price in every region of SkyPilot's catalog (a synthetic
one here), and the node bills its own segment at the price of the region it runs in, as SkyPilot
tells it (SKYPILOT_CLUSTER_INFO). The node's job is mlws's real entry point on this machine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from ..support.skypilot_cli import V100x2, sky_mlws

pytestmark = [pytest.mark.sky]


def launched_envs(record) -> dict:
    launch = [c for c in json.loads(record.read_text()) if c["path"] in ("/jobs/launch", "/launch")][-1]
    return list(yaml.safe_load_all(launch["json"]["task"]))[-1]["envs"]


def test_a_recovered_vm_bills_at_its_own_regions_price(ws, env, tmp_path):
    out = sky_mlws(
        ws,
        env,
        tmp_path,
        "train",
        *V100x2,
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=2",
        "logger=none",
        "--detach",
        record=tmp_path / "launch.json",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    envs = launched_envs(tmp_path / "launch.json")
    launch_price = float(envs["MLWS_HOURLY_PRICE"])
    prices = json.loads(envs["MLWS_REGION_PRICES"])
    assert prices["AWS/us-east-1"] == launch_price  # the optimizer chose the cheaper region
    assert prices["AWS/eu-west-1"] > launch_price and set(prices) == {"AWS/us-east-1", "AWS/eu-west-1"}

    node = tmp_path / "node"
    node.mkdir()
    where = {"cluster_name": "mlws-1", "cloud": "AWS", "region": "eu-west-1", "zone": "eu-west-1a"}
    job = subprocess.run(
        [sys.executable, "-m", "mlws.compute.sky.node_run", str(ws / "runs" / "1" / "spec.json")],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, **envs, "MLWS_RUN_DIR": str(node), "SKYPILOT_CLUSTER_INFO": json.dumps(where)},
    )
    assert job.returncode == 0, job.stderr[-3000:]
    segment = json.loads((node / "spend.json").read_text())["segments"][-1]
    assert segment["region"] == "eu-west-1" and segment["hourly_price"] == prices["AWS/eu-west-1"], segment

    # a region the table does not name (a catalog that changed since): the launch's price stands
    other = tmp_path / "other"
    other.mkdir()
    job = subprocess.run(
        [sys.executable, "-m", "mlws.compute.sky.node_run", str(ws / "runs" / "1" / "spec.json")],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **env,
            **envs,
            "MLWS_RUN_DIR": str(other),
            "SKYPILOT_CLUSTER_INFO": json.dumps({**where, "region": "ap-south-1"}),
        },
    )
    assert job.returncode == 0, job.stderr[-3000:]
    assert json.loads((other / "spend.json").read_text())["segments"][-1]["hourly_price"] == launch_price
