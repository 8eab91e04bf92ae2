"""Pure compute pieces: SkyPilot task compilation, backend lookup, Ray job-state mapping."""

import re

import pytest

from mlws.errors import MlwsError
from mlws.spec import RunSpec


def spec(uid="", **compute):
    base = {
        "_target_": "mlws.compute.sky.SkyBackend",
        "num_nodes": 1,
        "disk_size": 256,
        "managed": True,
        "autostop_minutes": 10,
        "env": {},
        "secrets": [],
        "mounts": [],
        "pip": [],
        "setup": [],
    }
    return RunSpec(
        experiment="model_12",
        overrides=(),
        config={"compute": {**base, **compute}},
        workspace="/ws",
        command="mlws train",
        created_at="2026-01-01",
        run_id=12,
        run_dir="/ws/runs/12",
        uid=uid,
    )


@pytest.mark.parametrize(
    "compute, check",
    [
        ({}, lambda t: t["run"] == "python -m mlws.compute.sky.node_run /mlws/spec.json" and t["num_nodes"] == 1),
        (
            {},
            lambda t: (
                t["resources"]["job_recovery"]["strategy"] == "EAGER_NEXT_REGION" and "autostop" not in t["resources"]
            ),
        ),
        # an idle cluster is deleted (down), not stopped with its disk billing on
        (
            {"managed": False, "autostop_minutes": 15},
            lambda t: t["resources"]["autostop"] == {"idle_minutes": 15, "down": True},
        ),
        (
            {"accelerators": "V100:2", "use_spot": True},
            lambda t: t["resources"]["accelerators"] == "V100:2" and t["resources"]["use_spot"] is True,
        ),
        ({"use_spot": False}, lambda t: "use_spot" not in t["resources"]),
        ({"secrets": ["HF_TOKEN"]}, lambda t: t["secrets"] == {"HF_TOKEN": None}),
        ({"env": {"A": 1}}, lambda t: t["envs"]["A"] == "1" and t["envs"]["MLWS_RUN_ID"] == "12"),
        # appended-to files need MOUNT_CACHED; the folder is keyed by the run's unique id too
        # SkyPilot mounts a bucket's root only: the root is mounted, the run's folder in it keyed by its unique id
        (
            {"bucket": "s3://b/mlws", "uid": "9f2c"},
            lambda t: (
                t["file_mounts"]["/mlws/bucket"] == {"source": "s3://b", "mode": "MOUNT_CACHED"}
                and t["envs"]["MLWS_RUN_DIR"] == "/mlws/bucket/mlws/runs/12-9f2c"
            ),
        ),
        ({"bucket": "gs://b", "uid": "9f2c"}, lambda t: t["envs"]["MLWS_RUN_DIR"] == "/mlws/bucket/runs/12-9f2c"),
        (
            {"mounts": ["s3://data:/data"]},
            lambda t: t["file_mounts"]["/data"] == {"source": "s3://data", "mode": "MOUNT"},
        ),
        ({"mounts": ["s3://data/v1:/data"]}, lambda t: t["file_mounts"]["/data"] == "s3://data/v1"),  # a folder: copied
        # compute.pip goes into the one resolving install call, under the torch/mlws constraints
        ({"pip": ["einops==0.8"]}, lambda t: re.search(r"mlws_pip install [^\n]* einops==0\.8 [^\n]*-c ", t["setup"])),
        ({}, lambda t: t["name"] == "mlws-12-model-12" and t["workdir"] == "/ws"),
    ],
)
def test_compile_task(compute, check):
    from mlws.compute.sky.compile import compile_task

    assert check(compile_task(spec(**compute)))


@pytest.mark.parametrize(
    "mount, message",
    [
        ("just-a-path", "is not SOURCE:REMOTE_PATH"),
        ("s3://x:relative", "is not SOURCE:REMOTE_PATH"),
        ("./missing:/data", "does not exist"),
    ],
)
def test_compile_task_refuses_bad_mounts(mount, message):
    from mlws.compute.sky.compile import compile_task

    with pytest.raises(MlwsError, match=message):
        compile_task(spec(mounts=[mount]))


def test_secret_values_come_from_the_environment_only():
    from mlws.compute.sky.compile import secret_values

    assert secret_values({"secrets": ["A"]}, {"A": "x", "B": "y"}) == {"A": "x"}
    with pytest.raises(MlwsError, match="B not set"):
        secret_values({"secrets": ["A", "B"]}, {"A": "x"})


@pytest.mark.parametrize(
    "compute, name",
    [
        ({"_target_": "mlws.compute.local.LocalBackend"}, "local"),
        ({"_target_": "mlws.compute.ray.RayBackend"}, "ray"),
        ({"_target_": "mlws.compute.sky.SkyBackend"}, "sky"),
        ({"backend": "sky"}, "sky"),  # a run recorded before backends were chosen by _target_
        ({}, "local"),
    ],
)
def test_backend_lookup(compute, name):
    from mlws.compute import get_backend

    assert get_backend(compute).name == name


@pytest.mark.parametrize(
    "target, message",
    [
        ("acme.NoSuch", "cannot import 'acme.NoSuch'"),
        ("mlws.spec.RunSpec", "is not a subclass of mlws.compute.Backend"),
        ("nodots", "cannot import"),
    ],
)
def test_backend_lookup_errors(target, message):
    from mlws.compute import get_backend

    with pytest.raises(MlwsError, match=message):
        get_backend({"_target_": target})


def test_a_users_backend_is_one_class():
    from mlws.compute import Backend, Submission, get_backend

    class Mine(Backend):
        name = "mine"

        def submit(self, spec_path, *, detach, prepared=None):
            return Submission(handle={"ticket": 1})

    import sys
    import types

    module = types.ModuleType("acme_backend_for_test")
    module.Mine = Mine
    sys.modules["acme_backend_for_test"] = module
    try:
        backend = get_backend({"_target_": "acme_backend_for_test.Mine", "queue": "gpu"})
        assert backend.name == "mine" and backend.config == {"queue": "gpu"}
        assert backend.status({"id": 1}) is None and backend.cost({"id": 1}) is None
        with pytest.raises(MlwsError, match="cannot stop runs"):
            backend.cancel({"id": 1})
    finally:
        del sys.modules["acme_backend_for_test"]


@pytest.mark.parametrize(
    "address, local",
    [
        ("http://127.0.0.1:8265", True),
        ("http://localhost:8265", True),
        ("127.0.0.1:8265", True),
        ("http://head.cluster:8265", False),
        ("http://10.0.0.5:8265", False),
    ],
)
def test_ray_local_address(address, local):
    from mlws.compute.ray.backend import _local_address

    assert _local_address(address) is local


def test_ray_job_states_map_to_registry_statuses():
    from mlws.compute.ray.backend import STATUS
    from mlws.registry import STATUSES

    assert set(STATUS.values()) <= set(STATUSES)
    assert STATUS["STOPPED"] == "stopped" and STATUS["PENDING"] == "running"


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_largest_paths_skip_excluded_folders(tmp_path):
    from mlws.compute.ray.upload import largest_paths

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.bin").write_bytes(b"x" * 3000)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "big.ckpt").write_bytes(b"x" * 9000)
    (tmp_path / "train.py").write_text("print(1)\n")
    assert largest_paths(tmp_path, ["runs/"]) == [("data/", 3000), ("train.py", 9)]


def test_a_stale_head_state_never_signals_an_unrelated_process(tmp_path):
    """A state file that outlived its head: its pid now belongs to something else, left alone."""
    import subprocess
    import sys

    from mlws.compute.ray.head import is_our_head, stop_head

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        state = {"pid": other.pid, "temp_dir": str(tmp_path / "ray")}
        assert not is_our_head(state)
        stop_head(state, timeout=1)
        assert other.poll() is None  # still running
    finally:
        other.kill()
        other.wait()


GiB = 1024**3


@pytest.mark.parametrize(
    "per_worker, workers, nodes, problem",
    [
        ({"CPU": 1, "GPU": 0}, 2, [{"CPU": 4}], None),
        ({"CPU": 1, "GPU": 1}, 2, [{"CPU": 4}], "asks for 2 GPUs (2 worker(s) × 1 GPUs) but the cluster has 0 GPUs"),
        (
            {"CPU": 1, "GPU": 2},
            1,
            [{"CPU": 8, "GPU": 1}, {"CPU": 8, "GPU": 1}],
            "no 1 node slot(s) hold one worker each",
        ),
        ({"CPU": 1, "GPU": 1}, 2, [{"CPU": 8, "GPU": 1}, {"CPU": 8, "GPU": 1}], None),
        ({"CPU": 3}, 2, [{"CPU": 4}, {"CPU": 2}], "no 2 node slot(s)"),
        ({"CPU": 1, "memory": 8 * GiB}, 1, [{"CPU": 4, "memory": 4 * GiB}], "8.0 GiB of memory"),
    ],
)
def test_ray_placement(per_worker, workers, nodes, problem):
    from mlws.compute.ray.resources import placement_problem

    found = placement_problem(per_worker, workers, nodes)
    assert (found is None) if problem is None else (problem in found), found


def test_every_recorded_run_gets_its_own_unique_id_kept_across_rewrites():
    first, second = spec().with_run(1, "/ws/runs/1"), spec().with_run(1, "/ws/runs/1")
    assert len(first.uid) == 16 and first.uid != second.uid  # the same number after `make clean`: another id
    assert first.with_run(1, "/elsewhere").uid == first.uid
    assert RunSpec.from_json(first.to_json()).uid == first.uid


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_a_stopped_jobs_controller_is_started_again_to_read_the_job_table(monkeypatch):
    """SkyPilot's jobs controller stops when idle (ClusterNotUpError); the status asks again with
    refresh=True, which starts it, instead of leaving the run `running` forever."""
    from sky import exceptions

    from mlws.compute.sky import client

    asked = []

    def table(job_id, refresh):
        asked.append(refresh)
        if not refresh:
            raise exceptions.ClusterNotUpError("controller is stopped", cluster_status=None)
        return [{"job_id": job_id, "status": "SUCCEEDED"}]

    monkeypatch.setattr(client, "_managed_jobs", table)
    assert client.job_status({"managed": True, "job_id": 7}) == "succeeded" and asked == [False, True]
    monkeypatch.setattr(client, "_managed_jobs", lambda job_id, refresh: [])
    with pytest.raises(MlwsError, match="SkyPilot's job table has no job 7"):
        client.job_status({"managed": True, "job_id": 7})


@pytest.mark.parametrize(
    "compute, index",
    [
        ({}, "https://download.pytorch.org/whl/cpu"),  # a CPU node: no CUDA build at all
        ({"accelerators": "V100:2"}, "https://download.pytorch.org/whl/cu126"),  # CUDA 13 builds dropped Volta
        ({"accelerators": {"A100": 8}}, "https://download.pytorch.org/whl/cu126"),
        ({"accelerators": "B200:8"}, "https://download.pytorch.org/whl/cu129"),  # Blackwell: torch 2.13 has no cu128
        ({"accelerators": "V100:1", "torch_index": "pypi"}, None),
        ({"accelerators": "V100:1", "torch_index": "https://mirror/whl"}, "https://mirror/whl"),
    ],
)
def test_the_nodes_torch_follows_the_accelerator(compute, index):
    from mlws.compute.sky.compile import compile_task, torch_index

    assert torch_index(spec(**compute).config["compute"]) == index
    s = spec(**compute)
    from dataclasses import replace

    setup = compile_task(replace(s, versions={"torch": "2.13.0+cpu"}), wheel="/tmp/c/mlws-0.1.0-py3-none-any.whl")[
        "setup"
    ]
    lines = setup.splitlines()
    torch_line = "mlws_pip install torch==2.13.0" + (f" --index-url {index}" if index else "")
    # the installer (uv where the node has SkyPilot's, else pip), torch, then a constraints file pinning
    # it (and mlws) for everything after, the laptop's own mlws without its dependencies, then the
    # task's share of them and the project's requirements
    assert lines[1].startswith("mlws_pip_conf() {")
    assert lines[2].startswith("if python -c ") and lines[2].endswith(
        f"; else {torch_line}; fi"
    )  # kept if on the image
    assert lines[3].startswith("MLWS_CONSTRAINTS=$(mktemp)")
    assert lines[4] == "mlws_pip install /mlws/dist/mlws-0.1.0-py3-none-any.whl --no-deps"
    assert "pip install mlws;" not in setup and "pip install -e ." not in setup


def test_a_hung_setup_is_cut_off(tmp_path):
    """The setup runs under `timeout`: a command that never ends fails the setup (exit 124)."""
    import subprocess

    from mlws.compute.sky.compile import compile_task

    def setup(commands):
        # the node's own installs are not run here: only the setup's shape and the user's commands
        return compile_task(spec(setup_timeout_minutes=30, setup=commands))["setup"].replace("mlws_pip install", "true")

    script = setup(["echo ${HOME:+home-set}"])
    assert script.startswith("set -e\ntimeout 30m bash -e -c ") and script.rstrip().endswith("</dev/null")
    ran = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=20)
    assert ran.returncode == 0 and ran.stdout.splitlines()[-1] == "home-set"
    hung = setup(["sleep 30"]).replace("timeout 30m", "timeout 1s")
    assert subprocess.run(["bash", "-c", hung], cwd=tmp_path, capture_output=True, timeout=20).returncode == 124
    # a command that reads stdin does not swallow the rest of the setup
    greedy = setup(["python3 -c 'import sys; sys.stdin.read()'", "touch after"])
    assert subprocess.run(["bash", "-c", greedy], cwd=tmp_path, capture_output=True, timeout=20).returncode == 0
    assert (tmp_path / "after").exists()


def test_the_node_mounts_the_wheel_it_installs():
    from mlws.compute.sky.compile import compile_task

    task = compile_task(spec(), wheel="/home/u/.cache/mlws/wheels/ab/mlws-0.1.0-py3-none-any.whl")
    assert (
        task["file_mounts"]["/mlws/dist/mlws-0.1.0-py3-none-any.whl"]
        == "/home/u/.cache/mlws/wheels/ab/mlws-0.1.0-py3-none-any.whl"
    )


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({}, {}),
        ({"SKYPILOT_NUM_GPUS_PER_NODE": "1", "SKYPILOT_NODE_IPS": "10.0.0.1"}, {}),
        # one node with V100:2 trains on both GPUs, not one
        (
            {"SKYPILOT_NUM_GPUS_PER_NODE": "2", "SKYPILOT_NODE_IPS": "10.0.0.1"},
            {"devices": 2, "accelerator": "gpu", "strategy": "ddp"},
        ),
        (
            {"SKYPILOT_NUM_GPUS_PER_NODE": "4", "SKYPILOT_NODE_IPS": "10.0.0.1\n10.0.0.2", "SKYPILOT_NODE_RANK": "1"},
            {"num_nodes": 2, "devices": 4, "accelerator": "gpu", "strategy": "ddp"},
        ),
    ],
)
def test_every_gpu_of_every_node_trains(environ, expected, monkeypatch):
    import os

    from mlws.compute.sky.nodes import trainer_overrides

    # it sets MASTER_ADDR, NODE_RANK, ... for Lightning: in a copy, or every later run of this test
    # process would think it is rank 1 (and record nothing)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    assert trainer_overrides(environ) == expected


def test_gpus_asked_for_but_not_usable_stop_the_run_at_once():
    """This machine has no GPU: a node that says it has one is the case of a CUDA build its driver
    cannot run (or a CPU build), which used to train on the CPU at GPU prices."""
    from mlws.compute.sky.nodes import check_gpus
    from mlws.errors import RunFailed

    check_gpus({})  # no GPU asked for: nothing to check
    with pytest.raises(RunFailed, match=r"this node has 2 GPU\(s\) but torch .* sees 0: the driver cannot run"):
        check_gpus({"SKYPILOT_NUM_GPUS_PER_NODE": "2"})


def test_the_cost_guard_counts_the_runs_spend_not_the_process(tmp_path):
    """A spot recovery's new process carries on from the seconds already billed (spend.json in the run
    directory); the first process counts the time since the launch (provisioning, setup)."""
    import json
    import time
    from types import SimpleNamespace

    from mlws.training.guards import CostLimit

    trainer = SimpleNamespace(is_global_zero=True, world_size=1, should_stop=False)
    first = CostLimit(hourly_price=3600.0, max_cost=100.0, run_dir=tmp_path, launched_at=time.time() - 40)
    assert 40 <= first.spend() < 45  # $1 a second, 40 s of provisioning already
    first.on_train_end(trainer, None)
    billed = json.loads((tmp_path / "spend.json").read_text())["billed_seconds"]
    assert 40 <= billed < 45
    again = CostLimit(hourly_price=3600.0, max_cost=billed + 5, run_dir=tmp_path, launched_at=time.time() - 999)
    assert billed <= again.spend() < billed + 2  # the ledger, not the launch time, once a process has run
    again.on_train_batch_end(trainer, None, None, None, 0)
    assert not trainer.should_stop
    over = CostLimit(hourly_price=3600.0, max_cost=billed - 1, run_dir=tmp_path)
    over.on_train_batch_end(trainer, None, None, None, 0)
    assert trainer.should_stop and over.stop_reason.startswith("cost limit")


def test_the_api_servers_optimizer_table_gives_the_chosen_offering():
    """What SkyPilot 0.14.1's server streams for sky.optimize (captured from a real server here)."""
    from mlws.compute.sky.pricing import chosen_row

    table = (
        "Considered resources (2 nodes):\n" + "-" * 79 + "\n"
        " INFRA             INSTANCE             vCPUs   Mem(GB)   GPUS     COST ($)   CHOSEN   \n" + "-" * 79 + "\n"
        " AWS (us-east-1)   p3.2xlarge[Spot]     8       61        V100:1   1.84          \u2714     \n"
        " AWS (us-east-1)   p3.8xlarge[Spot]     32      244       V100:4   7.34                \n"
    )
    assert chosen_row(table, 2) == {
        "available": True,
        "cloud": "AWS",
        "region": "us-east-1",
        "instance_type": "p3.2xlarge",
        "use_spot": True,
        "accelerators": "V100:1",
        "num_nodes": 2,
        "hourly_price": 1.84,
        "priced_by": "api server",
    }
    assert chosen_row("no table here", 1) is None


def test_a_notebooks_work_folder_is_its_own_folder_in_the_mounted_bucket():
    from mlws.compute.sky.compile import compile_notebook_task

    task = compile_notebook_task({"bucket": "s3://b/team"}, "/ws", "nb", 8888, 30.0, False, "unused")
    assert task["file_mounts"]["/mlws-work"] == {"source": "s3://b", "mode": "MOUNT_CACHED"}  # the bucket's root
    assert task["run"].startswith("mkdir -p /mlws-work/team/notebooks/nb && ln -sfn /mlws-work/team/notebooks/nb work")
