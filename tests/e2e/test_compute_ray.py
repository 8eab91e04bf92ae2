"""compute=ray against a real Ray head started by this module (`ray start --head` on free ports).

Runs go through Ray's Jobs API for real: the workspace is uploaded as the job's working directory,
`python -m mlws.worker` runs as the job's entrypoint, Ray Train starts the DDP workers. Nothing is faked.
"""

import json
import os
import socket

import pytest

from ..support.helpers import mlws, mlws_json, wait_for
from ..support.ray_cluster import isolated_ray_env, job_client, ray_head  # noqa: F401  (module fixture)

pytestmark = [pytest.mark.ray]


@pytest.fixture
def renv(env):
    return isolated_ray_env(env)


@pytest.fixture(autouse=True)
def stop_leftover_jobs(request):
    """A test that fails half-way leaves no job running on the shared head."""
    yield
    if "ray_head" not in request.fixturenames:
        return
    client = job_client(request.getfixturevalue("ray_head")["address"])
    for job in client.list_jobs():
        if str(job.status.value) in ("PENDING", "RUNNING") and job.submission_id:
            client.stop_job(job.submission_id)


def on(head) -> list[str]:
    return ["compute=ray", f"compute.address={head['address']}"]


def ray_job(head, submission_id):
    return job_client(head["address"]).get_job_info(submission_id)


def test_a_run_on_ray_succeeds_and_is_recorded_with_metrics_and_checkpoints(ray_head, ws, renv):
    out = mlws("train", "+experiment=model_12", *on(ray_head), cwd=ws, env=renv, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Epoch 24/24" in out.stdout + out.stderr  # the job's output was followed to its end
    run = mlws_json("show", "1", cwd=ws, env=renv)
    assert run["status"] == "succeeded" and run["backend"] == "ray", run
    assert run["metrics"]["val/acc"] >= 0.95
    ckpt = run["artifacts"]["checkpoints"]["best"]
    assert os.path.getsize(ckpt) > 10_000 and ckpt.startswith(str(ws / "runs" / "1"))
    assert list((ws / "runs" / "1").glob("wandb/offline-run-*"))  # W&B offline files, written on the cluster
    job = ray_job(ray_head, run["artifacts"]["compute"]["submission_id"])
    assert str(job.status.value) == "SUCCEEDED" and "mlws.compute.ray.retrying" in job.entrypoint
    assert job.runtime_env["working_dir"].startswith("gcs://")  # the workspace travelled as Ray's package


def test_detached_run_on_ray_is_watched_logged_stopped_and_copied(ray_head, ws, renv, tmp_path):
    out = mlws(
        "train",
        "+experiment=model_12",
        "trainer.max_epochs=500",
        "logger=none",
        *on(ray_head),
        "--detach",
        cwd=ws,
        env=renv,
    )
    assert out.returncode == 0 and "submitted to Ray" in out.stdout, out.stderr[-3000:]
    progress = ws / "runs" / "1" / "progress.json"
    wait_for(lambda: progress.exists() and json.loads(progress.read_text())["step"] > 50, 180, what="training steps")
    snap = mlws_json("watch", "1", "--once", cwd=ws, env=renv)
    assert snap["status"] == "running" and snap["progress"]["step"] > 50
    stopped = mlws("stop", "1", "--json", cwd=ws, env=renv, timeout=300)
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=renv)
    assert run["status"] == "stopped" and (ws / "runs" / "1" / "checkpoints" / "last.ckpt").exists()
    assert str(ray_job(ray_head, run["artifacts"]["compute"]["submission_id"]).status.value) == "STOPPED"
    logs = mlws("logs", "1", cwd=ws, env=renv)
    assert logs.returncode == 0 and "Epoch" in logs.stdout
    copied = mlws("cp", "1:checkpoints/", str(tmp_path / "ckpts"), cwd=ws, env=renv)
    assert copied.returncode == 0, copied.stderr
    assert "last.ckpt" in {p.name for p in (tmp_path / "ckpts").iterdir()}


def test_a_run_that_raises_on_ray_is_failed_with_the_error(ray_head, ws, renv):
    out = mlws(
        "train",
        "+experiment=model_01",
        "model.net._target_=mlws.examples.nets.NoSuchNet",
        "logger=none",
        *on(ray_head),
        cwd=ws,
        env=renv,
        timeout=300,
    )
    assert out.returncode == 1, out.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=renv)
    assert run["status"] == "failed" and "NoSuchNet" in run["error"], run
    assert str(ray_job(ray_head, run["artifacts"]["compute"]["submission_id"]).status.value) == "FAILED"


def test_two_ray_train_workers_train_with_ddp_and_one_run_is_recorded(ray_head, ws, renv):
    out = mlws(
        "train",
        "+experiment=model_04",
        "trainer.max_epochs=1",
        "logger=none",
        *on(ray_head),
        "compute.num_workers=2",
        cwd=ws,
        env=renv,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    runs = mlws_json("runs", cwd=ws, env=renv)
    assert [(r["id"], r["status"]) for r in runs] == [(1, "succeeded")]
    ranks = [json.loads((ws / "runs" / "1" / "ranks" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["global_rank"] for r in ranks] == [0, 1] and {r["world_size"] for r in ranks} == {2}
    # DistributedSampler split the 1,437 training images: each worker saw its half (12 of 23 batches)
    assert [r["batches_seen"] for r in ranks] == [12, 12] and ranks[0]["backend"] == "gloo"
    # checkpoints were reported to Ray Train as well
    assert list((ws / "runs" / "1" / "ray_train").glob("run-1/checkpoint_*"))
    assert runs[0]["metrics"]["val/acc"] > 0.5


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["unreachable", "num_workers", "gpus", "upload"])
def test_bad_ray_input_is_one_clear_message_and_nothing_is_recorded(case, ray_head, ws, renv):
    args = on(ray_head)
    if case == "unreachable":
        args, needle = (
            ["compute=ray", f"compute.address=http://127.0.0.1:{_closed_port()}"],
            "cannot reach the Ray cluster",
        )
    elif case == "num_workers":
        args, needle = args + ["compute.num_workers=0"], "compute.num_workers: must be >= 1"
    elif case == "gpus":
        args, needle = (
            args + ["compute.use_gpu=true", "compute.num_workers=2"],
            "asks for 2 GPUs (2 worker(s) × 1 GPUs)",
        )
    else:  # Ray's own upload limit (its packaging constant, read from this environment), lowered for the test
        (ws / "data").mkdir()
        (ws / "data" / "blob.bin").write_bytes(os.urandom(3 * 2**20))
        renv = {**renv, "RAY_max_grpc_message_size": str(2 * 2**20)}
        needle = "too large to upload to Ray"
    out = mlws("train", "+experiment=model_01", "logger=none", *args, cwd=ws, env=renv, timeout=300)
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr, out.stderr[-3000:]
    if case == "upload":
        assert "data/ (3.0 MiB)" in out.stderr
    if case == "gpus":
        assert "the cluster has 0 GPUs" in out.stderr
    assert mlws_json("runs", cwd=ws, env=renv) == []


def test_with_shared_storage_the_outcome_comes_back_from_the_run_directory(ray_head, ws, renv, tmp_path):
    """As on a cluster elsewhere: the job writes into compute.storage, never the workspace's registry,
    and the registry takes metrics and checkpoints from result.json there."""
    shared = tmp_path / "shared"
    out = mlws(
        "train",
        "+experiment=model_01",
        "trainer.max_epochs=2",
        "logger=none",
        *on(ray_head),
        f"compute.storage={shared}",
        cwd=ws,
        env=renv,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=renv)
    run_dir = shared / run["artifacts"]["compute"]["submission_id"]
    assert json.loads((run_dir / "result.json").read_text())["status"] == "succeeded"
    assert run["status"] == "succeeded" and run["metrics"]["val/acc"] > 0.2
    assert run["artifacts"]["checkpoints"]["last"] == str(run_dir / "checkpoints" / "last.ckpt")
    assert not (ws / "runs" / "1" / "checkpoints" / "last.ckpt").exists()  # nothing written here
    copied = mlws("cp", "1:checkpoints/last.ckpt", str(tmp_path / "last.ckpt"), cwd=ws, env=renv)
    assert copied.returncode == 0 and (tmp_path / "last.ckpt").stat().st_size > 1000, copied.stderr


def test_a_sweep_runs_its_trials_as_ray_jobs(ray_head, ws, renv):
    """`mlws train -m ... compute=ray`: each trial is its own Ray job, two at a time on the head."""
    out = mlws(
        "train",
        "-m",
        "+experiment=model_04",
        "trainer.max_epochs=1",
        "logger=none",
        *on(ray_head),
        "model.lr=1e-3,3e-3",
        "--parallel",
        "2",
        cwd=ws,
        env=renv,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    runs = mlws_json("runs", cwd=ws, env=renv)
    assert [(r["sweep_id"], r["trial_index"], r["backend"], r["status"]) for r in runs] == [
        (1, 1, "ray", "succeeded"),
        (1, 2, "ray", "succeeded"),
    ]
    jobs = {mlws_json("show", str(r["id"]), cwd=ws, env=renv)["artifacts"]["compute"]["submission_id"] for r in runs}
    assert len(jobs) == 2
    # the worker records its result before the Ray job itself has ended
    wait_for(
        lambda: all(str(ray_job(ray_head, j).status.value) == "SUCCEEDED" for j in jobs),
        timeout=60,
        what="both Ray jobs SUCCEEDED",
    )
    view = mlws_json("sweep", "1", cwd=ws, env=renv)
    assert view["varied"] == ["model.lr"] and all(t["value"] > 0 for t in view["trials"])


def test_ray_train_workers_train_a_lightning_pytorch_module(ray_head, ws, renv):
    """A module written with `import lightning` (the template's style) under Ray Train's DDP: the
    strategy, environment and report callback are built on its package, not on the one Ray imported."""
    from ..support.user_projects import DATA_CONFIG, MODEL_CONFIG, TEMPLATE_DATA, TEMPLATE_MODULE

    (ws / "acme").mkdir()
    (ws / "acme" / "__init__.py").write_text("")
    (ws / "acme" / "lit.py").write_text(TEMPLATE_MODULE)  # in the workspace: it travels with the job
    (ws / "acme" / "data.py").write_text(TEMPLATE_DATA)
    (ws / "conf" / "model" / "lit.yaml").write_text(MODEL_CONFIG)
    (ws / "conf" / "data" / "lit.yaml").write_text(DATA_CONFIG)
    out = mlws(
        "train",
        "model=lit",
        "data=lit",
        "data.normalize=true",
        "trainer.max_epochs=2",
        "logger=none",
        *on(ray_head),
        "compute.num_workers=2",
        cwd=ws,
        env=renv,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=renv)
    assert run["status"] == "succeeded" and run["artifacts"]["lightning"].startswith("lightning.pytorch ")
    assert run["metrics"]["val/acc"] > 0.2  # chance is 0.1; two short epochs, each worker on half the data
    assert list((ws / "runs" / "1" / "ray_train").glob("run-1/checkpoint_*/checkpoint.ckpt"))
    assert (ws / "runs" / "1" / "checkpoints" / "last.safetensors").is_file()
