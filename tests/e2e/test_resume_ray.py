"""compute=ray: a run whose worker is killed is retried by its Ray job from last.ckpt, and a run whose
job ended killed carries on with `mlws resume`; either way it ends with the weights of an
uninterrupted Ray run, bit for bit, on CPU, as one run id, one W&B run and one validation per step.

A real Ray head (tests/support/ray_cluster.py) and real jobs. The kills are the run's own: a callback in the
test's workspace sends SIGKILL to the worker's process at the places KILL_PLAN names, counting the
kills in a file outside the job's working directory, so each place is used once."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from ..support.helpers import make_workspace, mlws, mlws_json, wandb_rows
from ..support.ray_cluster import isolated_ray_env, ray_head  # noqa: F401  (module fixture)

pytestmark = [pytest.mark.ray]

KILLER = '''
import os
import signal

import pytorch_lightning as pl


class KillAt(pl.Callback):
    """KILL_PLAN="1:1,2:0": the i-th worker process of the run dies at the start of batch b of epoch e."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        plan, kills = os.environ.get("KILL_PLAN"), os.environ.get("KILLS_FILE")
        if not plan:
            return
        done = len(open(kills).read().split()) if os.path.exists(kills) else 0
        places = [tuple(int(n) for n in p.split(":")) for p in plan.split(",")]
        if done < len(places) and places[done] == (trainer.current_epoch, batch_idx):
            with open(kills, "a") as f:
                f.write("x\\n")
            os.kill(os.getpid(), signal.SIGKILL)
'''

TINY = [
    "+experiment=model_12",
    "trainer.max_epochs=4",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "monitor.hardware_interval_s=0",
    "+callbacks.killer._target_=killer.KillAt",
    "compute=ray",
]


def weights_hash(ws: Path, run_id: int) -> str:
    return hashlib.sha256((ws / "runs" / str(run_id) / "checkpoints" / "last.safetensors").read_bytes()).hexdigest()


def validations(ws: Path, run_id: int) -> list[tuple]:
    lines = (ws / "runs" / str(run_id) / "metrics.jsonl").read_text().splitlines()
    return [(row["epoch"], row["step"], row["val/loss"]) for row in map(json.loads, lines)]


def test_a_killed_ray_worker_is_retried_and_a_killed_job_resumes_to_the_uninterrupted_weights(ray_head, tmp_path):
    from ..support.helpers import clean_env, stop_what_the_workspace_started

    ws = make_workspace(tmp_path / "ws")
    (ws / "killer.py").write_text(KILLER)
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "killer"]):
        subprocess.run(["git", *args], cwd=ws, check=True)
    env = isolated_ray_env(clean_env(tmp_path))
    on = [*TINY, f"compute.address={ray_head['address']}"]
    kills = tmp_path / "kills.txt"
    try:
        reference = mlws("train", *on, "logger=none", cwd=ws, env=env, timeout=600)
        assert reference.returncode == 0, reference.stderr[-3000:]

        # killed mid-epoch 1 and retried by the job; killed again at epoch 2's start, no retry left
        plan = [
            "compute.max_retries=1",
            "+compute.env.KILL_PLAN='1:1,2:0'",
            f"+compute.env.KILLS_FILE={kills}",
        ]
        killed = mlws("train", *on, *plan, cwd=ws, env=env, timeout=600)
        out = killed.stdout + killed.stderr
        assert killed.returncode != 0 and len(kills.read_text().split()) == 2, out[-3000:]
        assert "the worker was killed (SIGKILL); retry 1 of 1" in out, out[-3000:]
        assert "carries on from step 3, the end of epoch 0" in out
        record = mlws_json("show", "2", cwd=ws, env=env)
        assert record["status"] == "failed" and record["backend"] == "ray", record
        assert [r["retried_by"] for r in record["artifacts"]["resumes"]] == ["ray job"]
        first_job = record["artifacts"]["compute"]["submission_id"]

        resumed = mlws("resume", "2", cwd=ws, env=env, timeout=600)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "run 2: carries on from step 6, the end of epoch 1" in resumed.stderr
        record = mlws_json("show", "2", cwd=ws, env=env)
        assert record["status"] == "succeeded" and record["error"] is None, record
        assert len(record["artifacts"]["resumes"]) == 2
        assert record["artifacts"]["compute"]["submission_id"] != first_job  # a new job, the same run
        assert [r["id"] for r in mlws_json("runs", cwd=ws, env=env)] == [1, 2]  # one run id, none added

        assert weights_hash(ws, 2) == weights_hash(ws, 1)  # bit for bit, the uninterrupted run's
        assert validations(ws, 2) == validations(ws, 1)  # every validation once, with its values
        dirs = sorted((ws / "runs" / "2" / "wandb").glob("offline-run-*"))
        assert len(dirs) == 3 and len({d.name.rsplit("-", 1)[-1] for d in dirs}) == 1, dirs  # one W&B run
        assert record["artifacts"]["wandb"]["id"] == dirs[0].name.rsplit("-", 1)[-1]
        logged = [(row["epoch"], row["val/loss"]) for d in dirs for row in wandb_rows(d) if "val/loss" in row]
        assert logged == [(epoch, loss) for epoch, _, loss in validations(ws, 1)]  # every validation once
    finally:
        stop_what_the_workspace_started(ws)
