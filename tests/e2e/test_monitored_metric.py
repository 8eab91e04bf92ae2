"""A monitor.metric the module does not log stops the run right after Lightning's sanity
validation, with one line naming the key and the metrics it does log (not an epoch later, inside
Lightning's ModelCheckpoint)."""

import json

from ..support.helpers import mlws


def test_an_unlogged_monitor_metric_stops_the_run_before_its_first_epoch(ws, env):
    out = mlws("train", "+experiment=model_01", "trainer.max_epochs=3", "monitor.metric=val/accuracy", cwd=ws, env=env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert (
        "monitor.metric is 'val/accuracy', but the model logs val/acc, val/loss: set monitor.metric=NAME" in out.stderr
    )
    record = json.loads(mlws("show", "1", "--json", cwd=ws, env=env).stdout)
    assert record["status"] == "failed" and "monitor.metric" in record["error"]
    metrics = ws / "runs" / "1" / "metrics.jsonl"  # no epoch was trained
    assert not metrics.exists() or not any(
        "epoch" in json.loads(line) and json.loads(line).get("val/acc") is not None
        for line in metrics.read_text().splitlines()
    )
