"""What the worker records for a run stopped outside Lightning's fit (while building, or after it):
the run directory's last validation and its checkpoints, named as a finished run's are."""

import json

from mlws.spec import RunSpec
from mlws.worker import _artifacts_on_disk, _metrics_on_disk, exit_code


def spec(tmp_path) -> RunSpec:
    return RunSpec(
        experiment="e", overrides=(), config={}, workspace=str(tmp_path), command="c", created_at="2026-01-01"
    ).with_run(1, str(tmp_path))


def test_checkpoints_on_disk_are_named_best_and_last(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    for name in ("best-epoch06.ckpt", "last.ckpt"):
        (tmp_path / "checkpoints" / name).write_text("")
    assert _artifacts_on_disk(spec(tmp_path))["checkpoints"] == {
        "best": str(tmp_path / "checkpoints/best-epoch06.ckpt"),
        "last": str(tmp_path / "checkpoints/last.ckpt"),
    }
    (tmp_path / "checkpoints" / "best-epoch07.ckpt").write_text("")  # save_top_k > 1: which is best is unknown
    assert set(_artifacts_on_disk(spec(tmp_path))["checkpoints"]) == {"best-epoch06", "best-epoch07", "last"}


def test_the_last_whole_validation_line_is_the_metrics(tmp_path):
    lines = [{"time": 1, "epoch": 0, "step": 5, "val/acc": 0.5}, {"time": 2, "epoch": 1, "step": 10, "val/acc": 0.7}]
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + '\n{"time": 3, "val/a')
    assert _metrics_on_disk(spec(tmp_path)) == {"val/acc": 0.7}
    assert _metrics_on_disk(spec(tmp_path / "none")) == {}


def test_exit_codes_of_a_record(monkeypatch):
    from mlws import worker

    monkeypatch.setattr(worker, "_stopped_by", [])
    assert exit_code({"status": "succeeded"}) == 0 and exit_code({"status": "failed"}) == 1
    assert exit_code({"status": "stopped"}) == 0  # no signal stopped it in this process: a guard did
    worker._stopped_by.append(15)
    assert exit_code({"status": "stopped"}) == 143 and exit_code({"status": "failed"}) == 1
