"""Where a resumed run carries on from, and who may resume: pure logic, no training.

The checkpoints here are Lightning's layout written with torch.save (its `loops.fit_loop.epoch_progress`
as Lightning 2.x writes it at an epoch's end and at a stop)."""

import json
import signal
import socket
from pathlib import Path

import pytest

from mlws.errors import MlwsError


def ckpt(path: Path, *, step: int, epoch: int, started: int, processed: int) -> Path:
    import torch

    progress = {"current": {"ready": started, "started": started, "processed": processed, "completed": epoch}}
    torch.save({"global_step": step, "epoch": epoch, "loops": {"fit_loop": {"epoch_progress": progress}}}, path)
    return path


def test_an_epoch_end_checkpoint_says_the_partial_epoch_after_it_is_trained_again(tmp_path):
    from mlws.training.resuming import checkpoint_place, resume_note

    last = ckpt(tmp_path / "last.ckpt", step=6, epoch=1, started=2, processed=2)
    assert checkpoint_place(last) == {"step": 6, "epoch": 1, "mid_epoch": False}
    assert resume_note(tmp_path, last) == (
        "carries on from step 6, the end of epoch 1; any part of epoch 2 it trained before it stopped "
        "is trained again, exactly as before"
    )
    (tmp_path / "progress.json").write_text(json.dumps({"step": 8, "epoch": 2}))
    note = resume_note(tmp_path, last)
    assert note.startswith("carries on from step 6, the end of epoch 1; it had reached step 8")
    assert "the partial epoch 2 after the checkpoint is trained again" in note
    (tmp_path / "progress.json").write_text("{cut sho")  # a file cut short by the kill
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 2, "step": 9}\n{"epo')
    assert "it had reached step 9" in resume_note(tmp_path, last)


def test_a_stop_s_mid_epoch_checkpoint_is_said_not_to_be_exact(tmp_path):
    from mlws.training.resuming import checkpoint_place, resume_note

    last = ckpt(tmp_path / "last.ckpt", step=32, epoch=10, started=11, processed=10)
    assert checkpoint_place(last)["mid_epoch"] is True
    note = resume_note(tmp_path, last)
    assert "in the middle of epoch 10" in note and "not exact" in note
    (tmp_path / "bad.ckpt").write_bytes(b"not a checkpoint")
    assert checkpoint_place(tmp_path / "bad.ckpt") == {}
    assert resume_note(tmp_path, tmp_path / "bad.ckpt").startswith("carries on from ")


def test_the_ray_job_retries_only_a_killed_worker_with_a_checkpoint(tmp_path):
    from mlws.compute.ray import retrying

    last = tmp_path / "last.ckpt"
    assert retrying.retry_note(-signal.SIGKILL, 0, 2, last) is None  # nothing to carry on from
    last.write_bytes(b"x")
    assert retrying.retry_note(-signal.SIGKILL, 0, 2, last).startswith(
        "mlws: the worker was killed (SIGKILL); retry 1 of 2"
    )
    assert retrying.retry_note(-signal.SIGKILL, 2, 2, last) is None  # no retry left
    assert retrying.retry_note(1, 0, 2, last) is None  # an error would happen again: recorded failed
    assert retrying.retry_note(0, 0, 2, last) is None
    retrying._stopping.append(signal.SIGTERM)  # mlws stop: Ray signalled the job
    try:
        assert retrying.retry_note(-signal.SIGTERM, 0, 2, last) is None
    finally:
        retrying._stopping.clear()


def record(tmp_path: Path, **fields) -> dict:
    run_dir = tmp_path / "runs" / "3"
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    (run_dir / "spec.json").write_text("{}")
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"x")
    base = {"id": 3, "status": "failed", "backend": "local", "pid": 123, "host": socket.gethostname()}
    return base | {"run_dir": str(run_dir), "artifacts": {}} | fields


def test_resume_asks_the_run_s_backend_where_it_can_carry_on(tmp_path):
    from mlws.compute.local import LocalBackend
    from mlws.compute.ray import RayBackend
    from mlws.ops.resume import check_resumable

    runs = tmp_path / "runs"
    local = record(tmp_path)
    assert check_resumable(LocalBackend(), local, runs)[1].name == "last.ckpt"
    with pytest.raises(MlwsError, match="ran on host 'elsewhere': resume it there"):
        check_resumable(LocalBackend(), local | {"host": "elsewhere"}, runs)
    with pytest.raises(MlwsError, match="run 3 succeeded: nothing to resume"):
        check_resumable(LocalBackend(), local | {"status": "succeeded"}, runs)
    with pytest.raises(MlwsError, match="run 3 is running"):
        check_resumable(LocalBackend(), local | {"status": "running"}, runs)

    # a Ray run in compute.storage: spec.json stays in the workspace's runs/3
    storage = tmp_path / "storage" / "mlws-3-abc"
    (storage / "checkpoints").mkdir(parents=True)
    handle = {"submission_id": "mlws-3-abc", "run_dir": str(storage), "address": "http://127.0.0.1:1"}
    ray = local | {"backend": "ray", "pid": None, "run_dir": str(storage), "artifacts": {"compute": handle}}
    with pytest.raises(MlwsError, match="has no last checkpoint"):
        check_resumable(RayBackend(), ray, runs)
    (storage / "checkpoints" / "last.ckpt").write_bytes(b"x")
    spec_path, last = check_resumable(RayBackend(), ray, runs)
    assert spec_path == runs / "3" / "spec.json" and last.parent.parent == storage
    gone = ray | {"artifacts": {"compute": handle | {"run_dir": str(tmp_path / "nowhere")}}}
    with pytest.raises(MlwsError, match="is not reachable from this machine"):
        check_resumable(RayBackend(), gone, runs)
    # a backend that does not say how (the base default) refuses a job elsewhere, with a reason
    with pytest.raises(MlwsError, match="cannot carry runs on with mlws resume"):
        check_resumable(LocalBackend(), ray, runs)
