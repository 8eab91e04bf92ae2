"""SkyPilot compute, tested without a cloud.

- "fake catalog": SkyPilot's own validation and optimizer run for real against a small synthetic
  catalog seeded into a temporary HOME (cloud credential/identity checks patched).
- "recorded API": the SDK's HTTP calls to the SkyPilot API server are recorded and answered by a
  fake (tests/support/skypilot_fakes.py); the tests assert what /jobs/launch, /jobs/cancel, /jobs/logs and
  /jobs/queue receive. They prove the wiring, not a cloud: nothing here reached AWS or GCP.
"""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..support.helpers import free_port, mlws, mlws_json
from ..support.skypilot_cli import V100x2, _sky_api_servers_of, calls, job, no_real_skypilot_server, sky_cli, sky_mlws  # noqa: F401

pytestmark = [pytest.mark.sky]


def test_fake_catalog_plan_prints_a_valid_task_and_its_price(ws, env, tmp_path):
    env = {**env, "HF_TOKEN": "hf_plan_value"}
    out = sky_mlws(
        ws,
        env,
        tmp_path,
        "plan",
        *V100x2,
        "compute.use_spot=true",
        "compute.max_runtime_minutes=90",
        "compute.secrets=[HF_TOKEN]",
        "compute.pip=[einops]",
        "+compute.env.FOO=bar",
        'compute.mounts=["s3://digits-data/v1:/data", "./experiments:/extra"]',
    )
    assert out.returncode == 0, out.stderr[-2000:]
    task = yaml.safe_load(out.stdout.split("# chosen:")[0])
    assert task["resources"]["accelerators"] == "V100:2" and task["resources"]["use_spot"] is True
    assert task["resources"]["job_recovery"]["strategy"] == "EAGER_NEXT_REGION"  # managed: spot recovery
    assert task["run"] == "python -m mlws.compute.sky.node_run /mlws/spec.json" and task["workdir"] == str(ws)
    assert "pip install -e ." not in task["setup"]
    assert re.search(r"mlws_pip install [^\n]* einops [^\n]*-c ", task["setup"])  # in the one resolving call
    assert task["secrets"] == {"HF_TOKEN": None} and task["envs"]["FOO"] == "bar"
    assert (
        task["file_mounts"]["/data"] == "s3://digits-data/v1"
    )  # a folder in a bucket: copied (SkyPilot mounts roots only)
    assert task["file_mounts"]["/extra"] == str(ws / "experiments")
    assert "# chosen: AWS p3.4xlarge-fake in us-east-1 (spot) × 1 node(s): $1.84/hour, at most $2.76" in out.stdout
    # the printed task is accepted by SkyPilot's own validation, as `sky launch` would read it
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, yaml, sky; sky.Task.from_yaml_config(yaml.safe_load(sys.stdin.read())); print('valid')",
        ],
        input=out.stdout.split("# chosen:")[0],
        capture_output=True,
        text=True,
        env={**env, "HOME": str(tmp_path / "home")},
        timeout=120,
    )
    assert check.stdout.strip() == "valid", check.stderr[-1000:]
    assert "hf_plan_value" not in out.stdout  # secrets by name only
    assert mlws_json("runs", cwd=ws, env=env) == []  # a plan records nothing


def test_fake_catalog_autostop_for_a_cluster_run_and_json(ws, env, tmp_path):
    out = sky_mlws(ws, env, tmp_path, "plan", *V100x2, "compute.managed=false", "compute.autostop_minutes=15", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)
    assert data["task"]["resources"]["autostop"] == {"idle_minutes": 15, "down": True}  # SkyPilot accepted it
    assert data["estimate"]["hourly_price"] == 6.12 and data["estimate"]["instance_type"] == "p3.4xlarge-fake"
    assert data["spec"]["config"]["compute"]["_target_"] == "mlws.compute.sky.SkyBackend"


@pytest.mark.parametrize(
    "args, needle",
    [
        (["compute.num_nodes=0"], "compute.num_nodes: must be >= 1"),
        (["compute.disk_size=-5"], "compute.disk_size: must be > 0"),
        (['compute.mounts=["./no-such-dir:/data"]'], "compute.mounts: local path './no-such-dir' does not exist"),
        (['compute.mounts=["just-a-path"]'], "is not SOURCE:REMOTE_PATH"),
        (["compute.secrets=[MLWS_TEST_UNSET_SECRET]"], "MLWS_TEST_UNSET_SECRET not set"),
    ],
)
def test_bad_cloud_input_caught_before_skypilot_is_imported(args, needle, ws, env):
    """Ranges, mount syntax and secrets are mlws's own checks: refused without importing SkyPilot."""
    probe = (
        "import sys\nfrom mlws.cli.main import main\nrc = main(sys.argv[1:])\n"
        "print('sky imported' if 'sky' in sys.modules else 'sky not imported', file=sys.stderr)\nsys.exit(rc)"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            "train",
            "+experiment=model_12",
            "compute=sky",
            "compute.accelerators=V100:2",
            *args,
            "--detach",
        ],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert out.stderr.strip().endswith("sky not imported")
    assert mlws_json("runs", cwd=ws, env=env) == []


@pytest.mark.parametrize(
    "args, needle",
    [
        (["compute.accelerators=V1000:2"], "no cloud offering matches compute (accelerators={'V1000': 2})"),
        (["compute.infra=nocloud"], "SkyPilot rejects the task"),
        (["compute.max_cost=5", "compute.max_runtime_minutes=120"], "estimated cost $12.24"),
    ],
)
def test_fake_catalog_bad_cloud_input_is_refused_before_launch(args, needle, ws, env, tmp_path):
    record = tmp_path / "api.json"
    out = sky_mlws(
        ws,
        env,
        tmp_path,
        "train",
        "+experiment=model_12",
        "compute=sky",
        "compute.accelerators=V100:2",
        *args,
        "--detach",
        record=record,
    )
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert calls(record, "/jobs/launch") == []
    assert mlws_json("runs", cwd=ws, env=env) == []


def test_recorded_api_launch_follow_stop(ws, env, tmp_path):
    record = tmp_path / "api.json"
    out = sky_mlws(
        ws,
        {**env, "HF_TOKEN": "hf_secret_value"},
        tmp_path,
        "train",
        *V100x2,
        "compute.use_spot=true",
        "compute.secrets=[HF_TOKEN]",
        "--detach",
        record=record,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "run 1 launched on SkyPilot as managed job 7 at $1.84/hour" in out.stdout
    launch = calls(record, "/jobs/launch")
    assert len(launch) == 1 and launch[0]["json"]["name"] == job(ws, 1)
    task = list(yaml.safe_load_all(launch[0]["json"]["task"]))[-1]
    assert task["run"] == "python -m mlws.compute.sky.node_run /mlws/spec.json"
    assert task["file_mounts"]["/mlws/spec.json"] == str(ws / "runs" / "1" / "spec.json")
    assert task["envs"]["MLWS_HOURLY_PRICE"] == "1.84" and task["resources"]["use_spot"] is True
    spec = json.loads((ws / "runs" / "1" / "spec.json").read_text())  # the frozen spec the node runs
    assert spec["run_id"] == 1 and spec["config"]["compute"]["accelerators"] == "V100:2"
    # the secret's value went to SkyPilot for the launch, and nowhere else
    assert task["secrets"] == {"HF_TOKEN": "hf_secret_value"}  # SkyPilot receives it for the node's env
    assert "managed_secrets" not in task  # inline, not a managed-secret reference (refused at launch in 0.14)
    registry_text = (ws / ".mlws" / "registry.db").read_bytes()
    assert b"hf_secret_value" not in registry_text and "hf_secret_value" not in out.stdout + out.stderr
    assert b"hf_secret_value" not in (ws / "runs" / "1" / "spec.json").read_bytes()

    # reading does not ask SkyPilot: no API call at all without --refresh
    quiet = tmp_path / "quiet.json"
    run = json.loads(sky_mlws(ws, env, tmp_path, "show", "1", "--json", record=quiet).stdout)
    assert calls(quiet, "/jobs/queue/v2") == [] and run["status"] == "running"
    assert run["backend"] == "sky" and run["status"] == "running" and run["labels"] == []
    assert run["artifacts"]["estimate"]["hourly_price"] == 1.84
    listed = json.loads(sky_mlws(ws, env, tmp_path, "runs", "--json", record=tmp_path / "r.json").stdout)[0]
    assert listed["cost"]["hourly_price"] == 1.84 and 0 <= listed["cost"]["spend"] < 0.1
    assert "so far (" in (shown := sky_mlws(ws, env, tmp_path, "show", "1", record=tmp_path / "t.json").stdout)
    assert "× $1.84/h (p3.4xlarge-fake price at launch, 1 node(s))" in shown
    # the request id is the one the (recorded) API server issued for the launch call
    issued = f"req-{[c['path'] for c in json.loads(record.read_text())].index('/jobs/launch') + 1}"
    assert run["artifacts"]["compute"] == {"managed": True, "job_id": 7, "request_id": issued, "name": job(ws, 1)}

    # status follows SkyPilot's job table when asked
    status_rec = tmp_path / "status.json"
    listed = sky_mlws(ws, env, tmp_path, "runs", "--json", "--refresh", record=status_rec, job_status="SUCCEEDED")
    assert json.loads(listed.stdout)[0]["status"] == "succeeded"
    assert calls(status_rec, "/jobs/queue/v2")[0]["json"]["job_ids"] == [7]


def test_recorded_api_stop_and_logs(ws, env, tmp_path):
    assert sky_mlws(ws, env, tmp_path, "train", *V100x2, "--detach", record=tmp_path / "a.json").returncode == 0
    logs_rec = tmp_path / "logs.json"
    logs = sky_mlws(ws, env, tmp_path, "logs", "1", "--follow", record=logs_rec)
    logged = calls(logs_rec, "/jobs/logs")
    assert len(logged) == 1 and logged[0]["json"]["job_id"] == 7 and logged[0]["json"]["follow"] is True, logs.stderr
    assert logs.returncode == 0 and "epoch 1 val/acc 0.9" in logs.stdout, logs.stdout + logs.stderr[-2000:]
    stop_rec = tmp_path / "stop.json"
    stopped = sky_mlws(ws, env, tmp_path, "stop", "1", "--json", record=stop_rec)
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    assert calls(stop_rec, "/jobs/cancel")[0]["json"]["job_ids"] == [7]
    assert json.loads(stopped.stdout)["status"] == "stopped"


def test_two_nodes_train_with_gloo_from_skypilot_variables(ws, env, tmp_path):
    """Two worker processes on this machine, with the node variables SkyPilot would set."""
    from mlws import api

    spec = api.plan(["+experiment=model_04", "trainer.max_epochs=1", "logger=none", "compute=sky"], workspace=ws)
    spec_path = spec.with_run(1, str(tmp_path / "unused")).write(tmp_path / "spec.json")
    port = str(free_port())
    procs = []
    for rank in (0, 1):
        node_env = {
            **env,
            "MLWS_REMOTE": "1",
            "MLWS_RUN_DIR": str(tmp_path / f"node{rank}"),
            "SKYPILOT_NODE_RANK": str(rank),
            "SKYPILOT_NODE_IPS": "127.0.0.1\n127.0.0.1",
            "SKYPILOT_NUM_NODES": "2",
            "SKYPILOT_NUM_GPUS_PER_NODE": "0",
            "MLWS_MASTER_PORT": port,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "mlws.worker", str(spec_path)],
                cwd=ws,
                env=node_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    try:
        outputs = [p.communicate(timeout=300)[0] for p in procs]
    finally:  # a rank that hangs (its peer died) never outlives the test
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    ranks = [json.loads((tmp_path / f"node{r}" / "ranks" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["global_rank"] for r in ranks] == [0, 1] and {r["world_size"] for r in ranks} == {2}
    assert [r["node_rank"] for r in ranks] == [0, 1] and ranks[0]["backend"] == "gloo"
    # DistributedSampler split the 1,437 training images: each rank saw its half (12 of 23 batches)
    assert [r["batches_seen"] for r in ranks] == [12, 12]
    result = json.loads((tmp_path / "node0" / "result.json").read_text())  # rank 0 records the outcome
    assert result["status"] == "succeeded" and not (tmp_path / "node1" / "result.json").exists()
    assert mlws_json("runs", cwd=ws, env=env) == []  # the node never touched the laptop's registry


def test_local_detach_logs_and_cp(ws, env, tmp_path):
    out = mlws("train", "+experiment=model_01", "trainer.max_epochs=2", "logger=none", "--detach", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    followed = mlws("logs", "1", "--follow", cwd=ws, env=env, timeout=300)
    # mlws's own start line and the last epoch (Lightning's notices go to the run's notices file now)
    assert followed.returncode == 0 and "run 1: training on" in followed.stdout and "Epoch 1/1" in followed.stdout
    assert mlws_json("show", "1", cwd=ws, env=env)["status"] == "succeeded"
    copied = mlws("cp", "1:checkpoints/", str(tmp_path / "ckpts"), cwd=ws, env=env)
    assert copied.returncode == 0, copied.stderr
    assert sorted(p.name for p in (tmp_path / "ckpts").iterdir()) == sorted(
        p.name for p in (ws / "runs" / "1" / "checkpoints").iterdir()
    )
    bad = mlws("cp", "1:../../etc/passwd", str(tmp_path / "x"), cwd=ws, env=env)
    assert bad.returncode == 2 and "outside run directory" in bad.stderr


def test_recorded_api_foreground_launch_follows_logs_then_status(ws, env, tmp_path):
    record = tmp_path / "api.json"
    out = sky_mlws(ws, env, tmp_path, "train", *V100x2, record=record, job_status="SUCCEEDED")
    assert out.returncode == 0, out.stderr[-2000:]
    paths = [c["path"] for c in json.loads(record.read_text())]
    assert (
        paths.index("/jobs/launch")
        < paths.index("/api/stream")
        < paths.index("/jobs/logs")
        < paths.index("/jobs/queue/v2")
    )
    assert "Launching (recorded API): provisioning" in out.stdout + out.stderr  # the launch's progress shown
    assert mlws_json("show", "1", cwd=ws, env=env)["status"] == "succeeded"


def test_fake_catalog_serve_on_a_vm_dry_run_and_recorded_launch(ws, env, tmp_path):
    assert mlws("train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", cwd=ws, env=env).returncode == 0
    dry = sky_mlws(ws, env, tmp_path, "serve", "1", "compute=sky", "compute.cpus=8", "--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    task = yaml.safe_load(dry.stdout.split("\n# ")[0].split("(nothing launched)\n", 1)[1])
    assert task["resources"]["ports"] == [8000]
    assert task["resources"]["autostop"] == {"idle_minutes": 240, "wait_for": "none", "down": True}
    assert task["run"] == "python -m mlws.serving.server /mlws/serve-args.json"
    assert task["file_mounts"]["/mlws/checkpoint.safetensors"].endswith(".safetensors")  # the weights, not the .ckpt
    args = json.loads(Path(task["file_mounts"]["/mlws/serve-args.json"]).read_text())
    assert args["host"] == "0.0.0.0" and args["checkpoint"] == "/mlws/checkpoint.safetensors" and args["run_id"] == 1
    assert "m6i.2xlarge at $0.38/hour; stops itself after 240 minutes" in dry.stdout
    record = tmp_path / "api.json"
    launched = sky_mlws(ws, env, tmp_path, "serve", "1", "compute=sky", "compute.cpus=8", record=record)
    assert launched.returncode == 0, launched.stderr[-2000:]
    body = calls(record, "/launch")[0]["json"]
    sent = list(yaml.safe_load_all(body["task"]))[-1]
    from mlws.compute.sky.compile import workspace_tag

    cluster = f"mlws-serve-1-{workspace_tag(ws)}"  # this workspace's run 1, not another's
    assert body["cluster_name"] == cluster and sent["resources"]["ports"] in ([8000], ["8000"], 8000, "8000")
    assert calls(record, "/endpoints")[0]["json"]["cluster"] == cluster
    assert f"served on SkyPilot cluster {cluster}: http://203.0.113.7:8000/" in launched.stdout
    # no serve.token_env: a token is generated for the public port (ops/serving.py), sent as an inline secret
    assert list(sent.get("secrets") or {}) == ["MLWS_SERVE_TOKEN"]


def test_recorded_api_a_cloud_server_requires_the_runs_token(ws, env, tmp_path):
    """serve.token_env set: the VM's server gets the token as an inline secret (never in the args
    file or a managed-secret reference) and requires it (with_token_from_env on the node)."""
    assert (
        mlws(
            "train",
            "+experiment=model_01",
            "trainer.max_epochs=1",
            "logger=none",
            "serve.token_env=MLWS_TOKEN",
            cwd=ws,
            env=env,
        ).returncode
        == 0
    )
    record = tmp_path / "api.json"
    env = {**env, "MLWS_TOKEN": "cloud-token-1234567890"}
    launched = sky_mlws(ws, env, tmp_path, "serve", "1", "compute=sky", "compute.cpus=8", record=record)
    assert launched.returncode == 0, launched.stderr[-2000:]
    sent = list(yaml.safe_load_all(calls(record, "/launch")[0]["json"]["task"]))[-1]
    assert sent["secrets"] == {"MLWS_SERVE_TOKEN": "cloud-token-1234567890"} and "managed_secrets" not in sent
    args_file = Path(sent["file_mounts"]["/mlws/serve-args.json"])
    assert "cloud-token" not in args_file.read_text() and json.loads(args_file.read_text())["token"] is None
    from mlws.serving.server import with_token_from_env

    on_node = with_token_from_env(
        json.loads(args_file.read_text()), {"MLWS_SERVE_TOKEN": sent["secrets"]["MLWS_SERVE_TOKEN"]}
    )
    assert on_node["token"] == "cloud-token-1234567890"
    from mlws.serving.inputs import authorized

    assert not authorized(None, on_node["token"]) and authorized("Bearer cloud-token-1234567890", on_node["token"])


def test_recorded_api_cluster_run_launch_logs_and_cancel(ws, env, tmp_path):
    """compute.managed=false: a cluster with autostop instead of a managed job."""
    record = tmp_path / "launch.json"
    out = sky_mlws(ws, env, tmp_path, "train", *V100x2, "compute.managed=false", "--detach", record=record)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"launched on SkyPilot as job on cluster {job(ws, 1)} 3" in out.stdout
    body = calls(record, "/launch")[0]["json"]
    sent = list(yaml.safe_load_all(body["task"]))[-1]
    assert (
        body["cluster_name"] == job(ws, 1) and sent["resources"]["autostop"]["idle_minutes"] == 10
    )  # no idle GPU overnight
    assert calls(record, "/jobs/launch") == []
    logs_rec = tmp_path / "logs.json"
    logs = sky_mlws(ws, env, tmp_path, "logs", "1", record=logs_rec)
    assert logs.returncode == 0 and calls(logs_rec, "/logs")[0]["json"]["cluster_name"] == job(ws, 1), logs.stderr[
        -2000:
    ]
    stop_rec = tmp_path / "stop.json"
    stopped = sky_mlws(ws, env, tmp_path, "stop", "1", "--json", record=stop_rec)
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    cancel = calls(stop_rec, "/cancel")[0]["json"]
    assert cancel["cluster_name"] == job(ws, 1) and cancel["job_ids"] == [3]
    assert json.loads(stopped.stdout)["status"] == "stopped"


def test_a_preempted_node_resumes_from_last_ckpt(ws, env, tmp_path):
    """A spot preemption, as the node sees it: the worker is killed outright, SkyPilot reruns the same
    command on the same run directory (the bucket mount), and training carries on from last.ckpt."""
    import signal
    import time

    from mlws import api

    spec = api.plan(["+experiment=model_12", "trainer.max_epochs=30", "logger=none", "compute=sky"], workspace=ws)
    spec_path = spec.with_run(1, str(tmp_path / "unused")).write(tmp_path / "spec.json")
    node_env = {**env, "MLWS_REMOTE": "1", "MLWS_RUN_DIR": str(tmp_path / "bucket")}
    metrics = tmp_path / "bucket" / "metrics.jsonl"
    first = subprocess.Popen(
        [sys.executable, "-m", "mlws.worker", str(spec_path)],
        cwd=ws,
        env=node_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3) and time.monotonic() < deadline:
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)  # preempted: no chance to save anything more
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    done_before = [json.loads(l)["epoch"] for l in metrics.read_text().splitlines()]
    assert len(done_before) >= 3 and not (tmp_path / "bucket" / "result.json").exists()
    second = subprocess.run(
        [sys.executable, "-m", "mlws.worker", str(spec_path)],
        cwd=ws,
        env=node_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Restoring states from the checkpoint path" in second.stdout + second.stderr
    # every validation once: the lines past the checkpoint were dropped and written again
    assert [json.loads(l)["epoch"] for l in metrics.read_text().splitlines()] == list(range(30))
    assert json.loads((tmp_path / "bucket" / "result.json").read_text())["status"] == "succeeded"
    # and it ends where an uninterrupted run ends, to the bit (CPU)
    whole = subprocess.run(
        [sys.executable, "-m", "mlws.worker", str(spec_path)],
        cwd=ws,
        env={**node_env, "MLWS_RUN_DIR": str(tmp_path / "whole")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert whole.returncode == 0, whole.stderr[-3000:]
    digest = lambda d: hashlib.sha256((tmp_path / d / "checkpoints" / "last.safetensors").read_bytes()).hexdigest()
    assert digest("bucket") == digest("whole")


@pytest.mark.parametrize(
    "limit, reason",
    [
        (["compute.max_cost=0.5"], "cost limit $0.50 reached (at $3600.00/hour)"),  # $1 a second: half a second
        (["compute.max_runtime_minutes=0.02"], "time limit of 1 s reached"),
    ],
)
def test_the_cost_and_time_guards_stop_a_run_on_the_node(limit, reason, ws, env, tmp_path):
    """The guards a node applies (the launcher passes the hourly price as MLWS_HOURLY_PRICE)."""
    from mlws import api

    spec = api.plan(
        ["+experiment=model_12", "trainer.max_epochs=500", "logger=none", "compute=sky", *limit], workspace=ws
    )
    spec_path = spec.with_run(1, str(tmp_path / "unused")).write(tmp_path / "spec.json")
    node_env = {**env, "MLWS_REMOTE": "1", "MLWS_RUN_DIR": str(tmp_path / "node"), "MLWS_HOURLY_PRICE": "3600"}
    done = subprocess.run(
        [sys.executable, "-m", "mlws.worker", str(spec_path)],
        cwd=ws,
        env=node_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "node" / "result.json").read_text())
    assert result["status"] == "stopped" and result["stop_reason"] == reason, result
    epochs = [json.loads(l)["epoch"] for l in (tmp_path / "node" / "metrics.jsonl").read_text().splitlines()]
    assert max(epochs) < 100  # stopped long before its 500 epochs


def test_a_cloud_runs_outcome_comes_back_from_its_job_log(ws, env, tmp_path):
    """A node stopped by its cost guard exits 0, so SkyPilot says SUCCEEDED; the registry must say
    `stopped` with the reason and the metrics. The node's real output (a worker run here, as on a VM)
    is what the recorded API answers for the job's log."""
    from mlws import api

    assert (
        sky_mlws(
            ws,
            env,
            tmp_path,
            "train",
            *V100x2,
            "compute.max_runtime_minutes=60",
            "compute.max_cost=10",
            "--detach",
            record=tmp_path / "launch.json",
        ).returncode
        == 0
    )
    spec = api.plan(
        ["+experiment=model_12", "trainer.max_epochs=500", "logger=none", "compute=sky", "compute.max_cost=0.5"],
        workspace=ws,
    )
    spec_path = spec.with_run(1, str(tmp_path / "unused")).write(tmp_path / "spec.json")
    node = subprocess.run(
        [sys.executable, "-m", "mlws.worker", str(spec_path)],
        cwd=ws,
        timeout=300,
        env={**env, "MLWS_REMOTE": "1", "MLWS_RUN_DIR": str(tmp_path / "node"), "MLWS_HOURLY_PRICE": "3600"},
        capture_output=True,
        text=True,
    )
    assert node.returncode == 0, node.stderr[-3000:]
    (tmp_path / "job.log").write_text(node.stdout + node.stderr)
    refreshed = sky_mlws(
        ws,
        env,
        tmp_path,
        "runs",
        "--json",
        "--refresh",
        record=tmp_path / "refresh.json",
        job_status="SUCCEEDED",
        job_log=tmp_path / "job.log",
    )
    assert refreshed.returncode == 0, refreshed.stderr[-2000:]
    run = json.loads(refreshed.stdout)[0]
    assert run["status"] == "stopped" and run["stop_reason"].startswith("cost limit $0.50 reached"), run
    assert 0 < run["metrics"]["val/acc"] <= 1 and run["metrics"]["val/loss"] > 0
    shown = json.loads(sky_mlws(ws, env, tmp_path, "show", "1", "--json").stdout)
    assert shown["artifacts"]["estimate"]["hourly_price"] == 6.12  # the launch's entries are kept
    assert calls(tmp_path / "refresh.json", "/jobs/logs")[0]["json"]["follow"] is False


def test_winding_down_is_running_and_an_unreadable_job_table_is_a_warning(ws, env, tmp_path):
    assert sky_mlws(ws, env, tmp_path, "train", *V100x2, "--detach", record=tmp_path / "a.json").returncode == 0
    out = sky_mlws(
        ws, env, tmp_path, "runs", "--json", "--refresh", record=tmp_path / "b.json", job_status="WINDING_DOWN"
    )
    assert json.loads(out.stdout)[0]["status"] == "running" and "status unknown" not in out.stderr
    # a state SkyPilot's own client cannot decode: a warning, the run stays as recorded
    odd = sky_mlws(ws, env, tmp_path, "runs", "--refresh", record=tmp_path / "c.json", job_status="MYSTERY")
    assert odd.returncode == 0 and "run 1: status unknown (SkyPilot could not report job 7" in odd.stderr, odd.stderr


def test_fake_catalog_check_plans_cloud_experiments_with_skypilots_own_validation(ws, env, tmp_path):
    """`mlws check` on a branch's cloud experiments: SkyPilot validates and prices each; a named secret
    need not be set (CI has none); a bad accelerator fails that file alone."""
    head = "# @package _global_\ndefaults:\n  - model_12\n  - override /compute: sky\n  - _self_\n"
    (ws / "experiments" / "model_13.yaml").write_text(
        head + "compute:\n  accelerators: V100:2\n  use_spot: true\n  secrets: [MLWS_TEST_UNSET_SECRET]\n"
    )
    (ws / "experiments" / "model_14.yaml").write_text(head + "compute:\n  accelerators: V1000:2\n")
    out = sky_mlws(ws, env, tmp_path, "check", "model_12", "model_13", "model_14")
    assert out.returncode == 1, out.stderr[-2000:]
    lines = out.stdout
    assert "ok    experiments/model_12.yaml  (compute: local)" in lines
    assert "ok    experiments/model_13.yaml  (compute: sky)" in lines
    assert "chosen: AWS p3.4xlarge-fake in us-east-1 (spot) × 1 node(s): $1.84/hour" in lines
    assert "FAIL  experiments/model_14.yaml: no cloud offering matches compute (accelerators={'V1000': 2})" in lines
    assert "Traceback" not in out.stderr


def test_recorded_api_a_sweep_launches_each_trial_as_a_managed_job(ws, env, tmp_path):
    """`mlws train -m ... compute=sky`: one managed job per trial (each its own frozen spec), and the
    sweep ends when SkyPilot's job table says they did (recorded API: SUCCEEDED)."""
    record = tmp_path / "api.json"
    out = sky_mlws(
        ws,
        env,
        tmp_path,
        "train",
        "-m",
        *V100x2,
        "model.lr=1e-3,3e-3",
        "--parallel",
        "2",
        "--json",
        record=record,
        job_status="SUCCEEDED",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    launches = calls(record, "/jobs/launch")
    assert [c["json"]["name"] for c in launches] == [job(ws, 1), job(ws, 2)]
    specs = [json.loads((ws / "runs" / str(i) / "spec.json").read_text()) for i in (1, 2)]
    assert sorted(s["config"]["model"]["lr"] for s in specs) == [0.001, 0.003]
    for launch, i in zip(launches, (1, 2)):
        task = list(yaml.safe_load_all(launch["json"]["task"]))[-1]
        assert task["file_mounts"]["/mlws/spec.json"] == str(ws / "runs" / str(i) / "spec.json")
    view = json.loads(out.stdout)
    assert view["sweep"]["status"] == "finished" and [t["status"] for t in view["trials"]] == ["succeeded"] * 2
    assert calls(record, "/jobs/queue/v2")  # the driver asked SkyPilot how its trials went


def test_plan_output_is_a_task_skypilots_own_cli_launches(ws, env, tmp_path):
    """`mlws plan ... -o DIR` writes the frozen spec and a task that mounts it: SkyPilot's real
    `sky launch --dryrun` CLI accepts it (its client-side checks run, the launch request reaches the
    recorded API server); the task as printed without -o is refused by the same CLI."""
    out = sky_mlws(ws, env, tmp_path, "plan", *V100x2, "-o", str(tmp_path / "plan"))
    assert out.returncode == 0, out.stderr[-2000:]
    task = yaml.safe_load((tmp_path / "plan" / "task.yaml").read_text())
    assert task["file_mounts"]["/mlws/spec.json"] == str(tmp_path / "plan" / "spec.json")
    spec = json.loads((tmp_path / "plan" / "spec.json").read_text())
    assert spec["config"]["compute"]["accelerators"] == "V100:2" and spec["experiment"] == "model_12"
    # a hand launch has no registry id: its own, so no two share a run directory (or a last.ckpt)
    assert spec["run_id"].startswith("plan-") and task["envs"]["MLWS_RUN_DIR"] == f"runs/{spec['run_id']}"
    again = sky_mlws(ws, env, tmp_path, "plan", *V100x2, "compute.secrets=[HF_TOKEN]", "-o", str(tmp_path / "plan2"))
    assert json.loads((tmp_path / "plan2" / "spec.json").read_text())["run_id"] != spec["run_id"]
    assert "--secret HF_TOKEN" in again.stdout
    assert mlws_json("runs", cwd=ws, env=env) == []  # planned, not recorded

    record = tmp_path / "api.json"
    launched = sky_cli(
        ws, env, tmp_path, "launch", "--dryrun", "-y", str(tmp_path / "plan" / "task.yaml"), record=record
    )
    assert launched.returncode == 0 and "Error" not in launched.stderr, launched.stderr[-2000:]
    (launch,) = calls(record, "/launch")
    assert launch["json"]["dryrun"] is True
    sent = list(yaml.safe_load_all(launch["json"]["task"]))[-1]
    assert sent["file_mounts"]["/mlws/spec.json"] == str(tmp_path / "plan" / "spec.json")
    assert sent["resources"]["accelerators"] == {"V100": 2}

    printed = sky_mlws(ws, env, tmp_path, "plan", *V100x2).stdout.split("# chosen:")[0]
    (tmp_path / "printed.yaml").write_text(printed)
    refused = sky_cli(
        ws, env, tmp_path, "launch", "--dryrun", "-y", str(tmp_path / "printed.yaml"), record=tmp_path / "api2.json"
    )
    assert "File mount source 'runs/N/spec.json' does not exist locally" in refused.stderr + refused.stdout

    bad = sky_mlws(ws, env, tmp_path, "plan", *V100x2, "compute.accelerators=V100:3", "-o", str(tmp_path / "bad"))
    assert bad.returncode == 2 and not (tmp_path / "bad").exists()  # refused: nothing written


def test_the_fixture_stops_only_the_api_server_this_test_started(tmp_path):
    """Another SkyPilot API server (a teammate's, another test's) that appears during a test is left
    alone; one whose HOME is this test's own is the test's. Played by two sleeping processes whose
    command line names sky.server.server."""
    fake = [sys.executable, "-c", "import time; time.sleep(120)", "-m", "sky.server.server"]
    theirs = subprocess.Popen(fake, env={"HOME": str(tmp_path.parent / "someone-else")})
    ours = subprocess.Popen(fake, env={"HOME": str(tmp_path / "home")})
    try:
        import time

        deadline = time.monotonic() + 10
        while {p.pid for p in _sky_api_servers_of(tmp_path)} != {ours.pid} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert {p.pid for p in _sky_api_servers_of(tmp_path)} == {ours.pid}
    finally:
        for p in (theirs, ours):
            p.kill()
            p.wait(timeout=10)
