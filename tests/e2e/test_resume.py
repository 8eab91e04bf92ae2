"""mlws resume: a run killed with SIGKILL (at an epoch boundary, or in the middle of an epoch) carries
on from its last.ckpt and ends with the weights of a run that was never interrupted, bit for bit, on
CPU; the registry keeps one run id and metrics.jsonl has every validation once.

Real CLI processes, real Lightning on the bundled digits. The kill is the run's own: a callback in
the test's workspace (killer.py) sends SIGKILL to its process at a chosen epoch and batch when
KILL_AT is set, so where it dies is deterministic; without KILL_AT it does nothing (the reference
run and the resumed run have it too, so all three share one config)."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from ..support.helpers import make_workspace, mlws, mlws_json, wandb_rows

KILLER = '''
import os
import signal

import pytorch_lightning as pl


class KillAt(pl.Callback):
    """SIGKILL to this process at the start of batch `batch` of epoch `epoch` (batch -1: as that epoch's
    checkpoint is about to be written, after its validation was recorded), when KILL_AT is set."""

    def __init__(self, epoch: int = 2, batch: int = 0):
        self.epoch, self.batch = epoch, batch

    def target(self):
        """KILL_PLAN="1:1,2:0,3:-1": the i-th process of the run dies at the i-th place (kills.txt counts)."""
        plan = os.environ.get("KILL_PLAN")
        if not plan:
            return (self.epoch, self.batch) if os.environ.get("KILL_AT") else None
        done = len(open("kills.txt").read().split()) if os.path.exists("kills.txt") else 0
        places = [tuple(int(n) for n in p.split(":")) for p in plan.split(",")]
        return places[done] if done < len(places) else None

    def die(self):
        with open("kills.txt", "a") as f:
            f.write("x\\n")
        os.kill(os.getpid(), signal.SIGKILL)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.target() == (trainer.current_epoch, batch_idx):
            self.die()

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        if self.target() == (trainer.current_epoch, -1):
            self.die()
'''

TINY = [
    "+experiment=model_12",
    "trainer.max_epochs=4",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "logger=none",
    "monitor.hardware_interval_s=0",
    "+callbacks.killer._target_=killer.KillAt",
]


def commit(ws: Path, message: str) -> None:
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message]):
        subprocess.run(["git", *args], cwd=ws, check=True)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One workspace with killer.py committed, and one uninterrupted reference run (run 1)."""
    from ..support.helpers import clean_env, stop_what_the_workspace_started

    tmp = tmp_path_factory.mktemp("resume")
    ws = make_workspace(tmp / "ws")
    (ws / "killer.py").write_text(KILLER)
    commit(ws, "killer")
    env = clean_env(tmp)
    done = mlws("train", *TINY, cwd=ws, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    try:
        yield ws, env
    finally:
        stop_what_the_workspace_started(ws)


def weights_hash(ws: Path, run_id: int) -> str:
    return hashlib.sha256((ws / "runs" / str(run_id) / "checkpoints" / "last.safetensors").read_bytes()).hexdigest()


def validations(ws: Path, run_id: int) -> list[dict]:
    path = ws / "runs" / str(run_id) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def new_run_id(ws: Path, env: dict) -> int:
    return max(r["id"] for r in mlws_json("runs", cwd=ws, env=env)) + 1


@pytest.mark.parametrize(
    "epoch,batch", [(2, 0), (2, 2), (1, -1)], ids=["epoch-boundary", "mid-epoch", "between-validation-and-checkpoint"]
)
def test_a_killed_run_resumes_to_the_uninterrupted_weights(shared, epoch, batch):
    ws, env = shared
    run_id = new_run_id(ws, env)
    killed = mlws(
        "train",
        *TINY,
        f"+callbacks.killer.epoch={epoch}",
        f"+callbacks.killer.batch={batch}",
        cwd=ws,
        env={**env, "KILL_AT": "1"},
    )
    assert killed.returncode == -9, killed.stderr[-2000:]  # SIGKILL: nothing recorded the outcome
    record = mlws_json("show", str(run_id), cwd=ws, env=env)
    assert record["status"] == "failed"  # its process is gone
    assert record["artifacts"]["data"]["digest"].startswith("sha256:")  # recorded before training
    before = validations(ws, run_id)
    assert [v["epoch"] for v in before] == [0, 1]

    resumed = mlws("resume", str(run_id), cwd=ws, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Restoring states from the checkpoint" in resumed.stdout + resumed.stderr
    # where it carries on from, said plainly: the last epoch's end; the partial epoch is trained again
    said = {
        (2, 0): "step 6, the end of epoch 1",
        (2, 2): "step 6, the end of epoch 1",
        (1, -1): "step 3, the end of epoch 0",
    }
    assert f"run {run_id}: carries on from {said[(epoch, batch)]}" in resumed.stderr, resumed.stderr[-2000:]
    assert "trained again, exactly as before" in resumed.stderr
    note = mlws_json("show", str(run_id), cwd=ws, env=env)["artifacts"]["resumes"][0]["note"]
    assert note.startswith(f"carries on from {said[(epoch, batch)]}")
    record = mlws_json("show", str(run_id), cwd=ws, env=env)
    assert record["status"] == "succeeded" and record["error"] is None
    assert len(record["artifacts"]["resumes"]) == 1 and record["artifacts"]["resumes"][0]["changed"] == []
    assert [r["id"] for r in mlws_json("runs", cwd=ws, env=env)].count(run_id) == 1
    assert new_run_id(ws, env) == run_id + 1  # no other run was recorded

    assert weights_hash(ws, run_id) == weights_hash(ws, 1)  # bit for bit, the uninterrupted run's
    after, reference = validations(ws, run_id), validations(ws, 1)
    assert [(v["epoch"], v["step"]) for v in after] == [(v["epoch"], v["step"]) for v in reference]
    assert [v["val/loss"] for v in after] == [v["val/loss"] for v in reference]


def test_a_stopped_run_resumes_as_the_same_run(shared, tmp_path):
    """mlws stop saves last.ckpt where the run was; resume carries on from there to the end."""
    from ..support.helpers import wait_for

    ws, env = shared
    run_id = new_run_id(ws, env)
    long = [a for a in TINY if not a.startswith("trainer.max_epochs")] + ["trainer.max_epochs=1000"]
    started = mlws("train", *long, "--detach", cwd=ws, env=env)
    assert started.returncode == 0, started.stderr
    path = ws / "runs" / str(run_id) / "metrics.jsonl"
    wait_for(lambda: path.exists() and len(path.read_text().splitlines()) >= 2, timeout=180, what="two validations")
    stopped = mlws("stop", str(run_id), cwd=ws, env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert mlws_json("show", str(run_id), cwd=ws, env=env)["status"] == "stopped"
    before = len(validations(ws, run_id))
    resumed = mlws("resume", str(run_id), "--detach", cwd=ws, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id} resumed in the background (pid " in resumed.stdout
    assert resumed.stdout.count("(") == resumed.stdout.count(")"), resumed.stdout  # one clear line
    wait_for(lambda: len(path.read_text().splitlines()) >= before + 2, timeout=180, what="validations after resume")
    assert mlws("stop", str(run_id), cwd=ws, env=env).returncode == 0
    record = mlws_json("show", str(run_id), cwd=ws, env=env)
    assert record["status"] == "stopped", record
    steps = [v["step"] for v in validations(ws, run_id)]
    assert steps == sorted(set(steps)), steps  # no validation twice
    assert len(record["artifacts"]["resumes"]) == 1
    assert [r["id"] for r in mlws_json("runs", cwd=ws, env=env)].count(run_id) == 1


def test_resume_refuses_what_cannot_carry_on(shared):
    ws, env = shared
    unknown = mlws("resume", "999", cwd=ws, env=env)
    assert unknown.returncode != 0 and "no run 999" in unknown.stderr and "Traceback" not in unknown.stderr
    finished = mlws("resume", "1", cwd=ws, env=env)
    assert finished.returncode != 0 and "run 1 succeeded: nothing to resume" in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr


def test_resume_refuses_changed_code_and_config_unless_forced(tmp_path):
    from ..support.helpers import clean_env

    ws = make_workspace(tmp_path / "ws")
    (ws / "killer.py").write_text(KILLER)
    commit(ws, "killer")
    env = clean_env(tmp_path)
    killed = mlws("train", *TINY, cwd=ws, env={**env, "KILL_AT": "1"})
    assert killed.returncode == -9, killed.stderr[-2000:]
    no_ckpt = ws / "runs" / "1" / "checkpoints"
    # the experiment changes: the code (a new commit) and the config it composes to
    exp = ws / "experiments" / "model_12.yaml"
    exp.write_text(exp.read_text().replace("channels: [32, 64]", "channels: [16, 64]"))
    commit(ws, "narrower")
    refused = mlws("resume", "1", cwd=ws, env=env)
    assert refused.returncode != 0, refused.stdout
    assert "run 1 cannot resume" in refused.stderr and "code: the workspace is at commit" in refused.stderr
    assert "model.net.channels" in refused.stderr and "--force" in refused.stderr
    record = mlws_json("show", "1", cwd=ws, env=env)
    assert record["status"] == "failed" and "resumes" not in record["artifacts"]  # nothing recorded
    forced = mlws("resume", "1", "--force", cwd=ws, env=env)
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert "warning: resumed although code" in forced.stderr
    record = mlws_json("show", "1", cwd=ws, env=env)
    assert record["status"] == "succeeded"
    assert record["config"]["model"]["net"]["channels"] == [32, 64]  # the run's own config, carried on
    assert any(c.startswith("config:") for c in record["artifacts"]["resumes"][0]["changed"])
    assert (no_ckpt / "last.ckpt").is_file()


def test_a_resumed_run_continues_its_w_and_b_run(shared):
    """W&B offline: the resumed run writes under the earlier W&B run's id (`wandb sync` makes them one)."""
    ws, env = shared
    run_id = new_run_id(ws, env)
    with_wandb = [a for a in TINY if a != "logger=none"]
    killed = mlws("train", *with_wandb, "+callbacks.killer.epoch=2", cwd=ws, env={**env, "KILL_AT": "1"})
    assert killed.returncode == -9, killed.stderr[-2000:]
    first = sorted((ws / "runs" / str(run_id) / "wandb").glob("offline-run-*"))
    assert len(first) == 1
    resumed = mlws("resume", str(run_id), cwd=ws, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    dirs = sorted((ws / "runs" / str(run_id) / "wandb").glob("offline-run-*"))
    assert len(dirs) == 2 and len({d.name.rsplit("-", 1)[-1] for d in dirs}) == 1, dirs
    record = mlws_json("show", str(run_id), cwd=ws, env=env)
    assert record["artifacts"]["wandb"]["id"] == dirs[0].name.rsplit("-", 1)[-1]
    # every validation once in the W&B run, across its folders (the killed process wrote out none)
    logged = [row for d in dirs for row in wandb_rows(d) if "val/loss" in row]
    assert [(row["epoch"], row["val/loss"]) for row in logged] == [
        (v["epoch"], v["val/loss"]) for v in validations(ws, 1)
    ], logged
    assert weights_hash(ws, run_id) == weights_hash(ws, 1)  # the logger changes nothing of the training


def ten_kill_places(seed: int) -> list[tuple[int, int]]:
    """Ten places at random (seeded) in epochs 1-3 (epoch 0 has no checkpoint to resume from), in
    the order one run meets them: a batch's start, or -1, as that epoch's checkpoint is written. A
    resumed process starts its epoch again, so the next place may be in the same epoch."""
    import random

    every = [(epoch, batch) for epoch in (1, 2, 3) for batch in (0, 1, 2, -1)]
    places = random.Random(seed).sample(every, 10)  # ten of the twelve, each met once
    return sorted(places, key=lambda p: (p[0], 99 if p[1] < 0 else p[1]))


def test_ten_kills_at_random_moments_end_as_the_uninterrupted_run(shared):
    """Killed ten times (mid-epoch, at a boundary, between a validation and its checkpoint), resumed
    each time: still the uninterrupted run's weights, one run id, every validation once."""
    ws, env = shared
    run_id = new_run_id(ws, env)
    (ws / "kills.txt").unlink(missing_ok=True)
    places = ten_kill_places(seed=28)
    plan = {**env, "KILL_PLAN": ",".join(f"{e}:{b}" for e, b in places)}
    assert mlws("train", *TINY, cwd=ws, env=plan).returncode == -9
    for kill in range(2, len(places) + 1):
        again = mlws("resume", str(run_id), cwd=ws, env=plan)
        assert again.returncode == -9, (places, kill, again.stderr[-2000:])
        assert len((ws / "kills.txt").read_text().split()) == kill
    last = mlws("resume", str(run_id), cwd=ws, env=plan)  # the plan is spent: it ends
    assert last.returncode == 0, last.stderr[-3000:]
    record = mlws_json("show", str(run_id), cwd=ws, env=env)
    assert record["status"] == "succeeded" and len(record["artifacts"]["resumes"]) == len(places)
    assert new_run_id(ws, env) == run_id + 1
    assert weights_hash(ws, run_id) == weights_hash(ws, 1), places
    assert [(v["epoch"], v["step"]) for v in validations(ws, run_id)] == [
        (v["epoch"], v["step"]) for v in validations(ws, 1)
    ]


def test_a_run_stopped_before_its_first_checkpoint_goes_on_writing_last_ckpt(tmp_path):
    """Its restored ModelCheckpoint knows no last.ckpt: without being told, Lightning wrote
    last-v1.ckpt after the resume and left last.ckpt at the stop (read by the next resume)."""
    import pytorch_lightning as pl

    from mlws.training.resuming import keep_writing_last

    (tmp_path / "last.ckpt").write_bytes(b"")
    cb = pl.callbacks.ModelCheckpoint(dirpath=str(tmp_path), save_last=True)
    assert cb.last_model_path == ""  # as restored from a checkpoint written before any epoch end

    class Trainer:
        checkpoint_callbacks = [cb]

    keep_writing_last(Trainer())
    assert cb.last_model_path == str(tmp_path / "last.ckpt")
    other = pl.callbacks.ModelCheckpoint(dirpath=str(tmp_path / "none"), save_last=True)
    keep_writing_last(type("T", (), {"checkpoint_callbacks": [other]})())
    assert other.last_model_path == ""  # no last.ckpt there: nothing to carry on writing
