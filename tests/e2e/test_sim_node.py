"""compute=sky end to end on a simulated node (tests/support/sim_node.py): the task mlws sends to SkyPilot's
API server (the recorded API: there is no cloud) is run the way SkyPilot runs it on a VM, its setup
for real in SkyPilot's ~/sky-user-env. The node's bucket mount is a folder; what it writes back (as
MOUNT_CACHED does) is uploaded to an S3-compatible server on loopback (moto, tests/support/s3_server.py), which
mlws on the laptop reads through boto3."""

import json
import signal
import time
from pathlib import Path

import pytest
import yaml

from ..support.helpers import free_port
from ..support.s3_server import S3Server
from ..support.sim_node import Node
from ..support.skypilot_cli import calls, sky_mlws

pytestmark = [pytest.mark.slow, pytest.mark.sky]
BUCKET = "s3://team-bucket/mlws"


def launched_task(record: Path, path: str = "/jobs/launch") -> dict:
    return list(yaml.safe_load_all(calls(record, path)[-1]["json"]["task"]))[-1]


def wait_for_lines(path: Path, n: int, proc, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and len(path.read_text().splitlines()) >= n):
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.monotonic() < deadline, f"no {n} lines in {path}"
        time.sleep(0.2)


def test_a_cloud_run_on_a_simulated_node(ws, env, tmp_path):
    buckets = tmp_path / "buckets"
    (ws / ".gitignore").write_text("runs/\n.mlws/\nwandb/\n")  # what `mlws init` writes; SkyPilot honours it
    (ws / "runs").mkdir(exist_ok=True)
    (ws / "runs" / "stale.bin").write_bytes(b"x" * 1000)
    common = [
        "+experiment=model_12",
        "compute=sky",
        f"compute.bucket={BUCKET}",
        "compute.torch_index=pypi",
        "logger=none",
        "compute.max_runtime_minutes=60",
        "compute.max_cost=50",
    ]
    out = sky_mlws(
        ws, env, tmp_path, "train", *common, "trainer.max_epochs=8", "--detach", record=tmp_path / "launch.json"
    )
    assert out.returncode == 0, out.stderr[-3000:]
    task = launched_task(tmp_path / "launch.json")
    node = Node(tmp_path / "node", buckets)
    node.provision(task)
    assert (node.workdir / "conf" / "config.yaml").is_file() and not (node.workdir / "runs").exists()

    started = time.monotonic()
    setup = node.setup(task)
    setup_s = time.monotonic() - started
    assert setup.returncode == 0, (setup.stdout + setup.stderr)[-4000:]
    node_python = node.venv / "bin" / "python"
    import subprocess

    where = subprocess.run(
        [str(node_python), "-c", "import mlws, torch; print(mlws.__file__, torch.__version__)"],
        capture_output=True,
        text=True,
        env=node.env(task),
        cwd=node.workdir,
    )
    assert str(node.venv) in where.stdout and "2.13.0" in where.stdout, (
        where.stderr
    )  # the laptop's mlws, in the node's venv

    # a spot preemption: the job is killed after a few epochs; the recovered job resumes from last.ckpt
    run_dir = Path(node.here(task["envs"]["MLWS_RUN_DIR"]))
    first = node.run(task)
    try:
        started = time.monotonic()
        while not (run_dir / "progress.json").exists():  # the recorder's first step
            assert first.poll() is None and time.monotonic() - started < 300, first.stdout.read()[-3000:]
            time.sleep(0.1)
        first_step_s = time.monotonic() - started
        wait_for_lines(run_dir / "metrics.jsonl", 3, first)
    finally:
        import os

        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    before = len((run_dir / "metrics.jsonl").read_text().splitlines())
    billed_before = (
        json.loads((run_dir / "spend.json").read_text())["billed_seconds"] if (run_dir / "spend.json").exists() else 0
    )
    second = node.run(task)
    log, _ = second.communicate(timeout=600)
    assert second.returncode == 0, log[-3000:]
    assert "Restoring states from the checkpoint path" in log and "MLWS_RESULT " in log
    epochs = [json.loads(line)["epoch"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert epochs[-1] == 7 and len(epochs) < before + 8  # carried on, not from scratch
    spend = json.loads((run_dir / "spend.json").read_text())["billed_seconds"]
    assert spend >= billed_before  # the spend carried over to the recovered job

    # the laptop: SkyPilot says SUCCEEDED; the outcome and metrics come back from the bucket (boto3)
    s3 = S3Server(tmp_path / "moto.log")
    try:
        s3.client().create_bucket(Bucket="team-bucket")
        assert s3.put_folder(buckets / "team-bucket", "team-bucket", "") > 3  # the mount's write-back
        laptop = {**env, **s3.env}
        refreshed = sky_mlws(
            ws,
            laptop,
            tmp_path,
            "runs",
            "--json",
            "--refresh",
            record=tmp_path / "refresh.json",
            job_status="SUCCEEDED",
        )
        assert refreshed.returncode == 0, refreshed.stderr[-2000:]
        run = json.loads(refreshed.stdout)[0]
        assert run["status"] == "succeeded" and run["metrics"]["val/acc"] > 0.9, run
        copied = sky_mlws(ws, laptop, tmp_path, "cp", "1:checkpoints/", str(tmp_path / "back"))
        assert copied.returncode == 0, copied.stderr[-2000:]
        assert {"last.ckpt", "last.safetensors"} <= {p.name for p in (tmp_path / "back").iterdir()}
    finally:
        s3.stop()

    # two nodes (one process each, gloo on CPUs) train one run until the cost guard stops it: both ranks
    # stop at the same batch (a rank stopping alone would leave the other waiting in a collective)
    two = sky_mlws(
        ws,
        env,
        tmp_path,
        "train",
        *common,
        "trainer.max_epochs=500",
        "compute.num_nodes=2",
        "--detach",
        record=tmp_path / "launch2.json",
    )
    assert two.returncode == 0, two.stderr[-3000:]
    task2 = launched_task(tmp_path / "launch2.json")
    port = free_port()
    nodes = [Node(tmp_path / f"node{rank}", buckets, python_env=node.venv) for rank in (0, 1)]
    for n in nodes:
        n.provision(task2)
    price = {"MLWS_HOURLY_PRICE": "18000", "MLWS_LAUNCHED_AT": f"{time.time():.0f}"}  # $5 a second: 10 s of $50
    procs = [
        n.run(task2, rank=rank, ips=("127.0.0.1", "127.0.0.1"), extra={"MLWS_MASTER_PORT": str(port), **price})
        for rank, n in enumerate(nodes)
    ]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    result = json.loads((Path(nodes[0].here(task2["envs"]["MLWS_RUN_DIR"])) / "result.json").read_text())
    assert result["status"] == "stopped" and result["stop_reason"].startswith("cost limit $50.00"), result
    # Lightning's notice of the process group goes to the run's notices file (train.log), not the terminal
    notices = "".join(
        p.read_text() for n in nodes for p in Path(n.here(task2["envs"]["MLWS_RUN_DIR"])).glob("train.log")
    )
    assert "gloo" in (logs[0] + logs[1] + notices).lower()
    print(f"simulated node: setup {setup_s:.0f} s, run start to first training step {first_step_s:.1f} s")
