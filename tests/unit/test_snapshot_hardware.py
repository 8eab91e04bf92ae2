"""The watch snapshot's hardware: a sample taken during validation has no training steps to time,
so the data-wait figure shown is the last sample that had one (it made test_watch_live_then_stop
flaky when the newest sample fell in a validation)."""

import json

from mlws.monitor.snapshot import snapshot


def test_the_last_timed_sample_gives_the_data_wait(tmp_path):
    rows = [
        {"time": 1.0, "step": 5, "cpu_percent": 90.0, "data_wait_fraction": 0.25, "step_time_ms": 4.0},
        {"time": 2.0, "step": 5, "cpu_percent": 40.0},
    ]  # during validation: no steps since
    (tmp_path / "hardware.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    record = {
        "id": 1,
        "status": "running",
        "run_dir": str(tmp_path),
        "metrics": {},
        "experiment": "x",
        "started_at": None,
        "ended_at": None,
        "config": {},
        "monitor": {},
    }
    snap = snapshot(record, now=3.0)
    assert snap["hardware"]["cpu_percent"] == 40.0  # the newest sample
    assert snap["hardware"]["data_wait_fraction"] == 0.25 and snap["hardware"]["step_time_ms"] == 4.0
