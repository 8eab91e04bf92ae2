"""The plain-words warnings of `mlws watch`, on synthetic histories."""

from mlws.cli.watch_cmd import sparkline
from mlws.monitor.alerts import Thresholds, alerts

NOW = 10_000.0


def test_idle_gpu_for_five_minutes_is_reported():
    hw = [{"time": NOW - 400 + i * 10, "gpu0_util_percent": 12.0, "gpu1_util_percent": 95.0} for i in range(41)]
    out = alerts("running", [], hw, NOW, NOW, Thresholds())
    assert out == ["GPU 0 utilisation under 30% for 5 minutes — input pipeline bound?"]


def test_busy_gpu_or_short_history_is_not_reported():
    busy = [{"time": NOW - 400 + i * 10, "gpu0_util_percent": 80.0} for i in range(41)]
    short = [{"time": NOW - 60 + i, "gpu0_util_percent": 5.0} for i in range(60)]
    assert alerts("running", [], busy, NOW, NOW, Thresholds()) == []
    assert alerts("running", [], short, NOW, NOW, Thresholds()) == []


def test_no_improvement_counts_evaluations_since_the_best():
    evals = [{"val/loss": v} for v in (1.0, 0.5, 0.4, 0.45, 0.41, 0.42, 0.43, 0.44, 0.46)]
    out = alerts("succeeded", evals, [], None, NOW, Thresholds(patience=5), ("val/loss", "min"))
    assert out == ["val/loss has not improved for 6 evaluations (best 0.4000)"]
    assert alerts("succeeded", evals[:5], [], None, NOW, Thresholds(patience=5), ("val/loss", "min")) == []


def test_no_improvement_follows_the_runs_own_metric_and_mode():
    """A run whose key metric is maximised and has no loss: the metric itself is watched (mode max)."""
    evals = [{"val/r2": v} for v in (0.1, 0.5, 0.9, 0.8, 0.85, 0.7, 0.6, 0.88, 0.5)]
    out = alerts("succeeded", evals, [], None, NOW, Thresholds(patience=5), ("val/r2", "max"))
    assert out == ["val/r2 has not improved for 6 evaluations (best 0.9000)"]
    assert alerts("succeeded", evals, [], None, NOW, Thresholds(patience=5), ("val/r2", "min")) == [
        "val/r2 has not improved for 8 evaluations (best 0.1000)"
    ]  # minimised: the first was the best
    assert alerts("succeeded", evals, [], None, NOW, Thresholds(patience=5), None) == []


def test_stalled_and_input_bound():
    hw = [{"time": NOW - 700, "data_wait_fraction": 0.8}] * 4
    out = alerts("running", [], hw, NOW - 700, NOW, Thresholds(stall_minutes=5))
    assert "no new metrics for 12 minutes — stalled?" in out
    assert any("waiting for data" in w for w in out)
    assert alerts("succeeded", [], hw, NOW - 700, NOW, Thresholds()) == []  # a finished run is not stalled


def test_sparkline_spans_low_to_high():
    assert sparkline([3.0, 2.0, 1.0]) == "█▄▁"
    assert sparkline([]) == ""
