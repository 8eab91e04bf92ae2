"""The example story holds: model_12 reaches >= 0.97 validation accuracy, the baseline is clearly lower."""

import pytest

from ..support.helpers import mlws, mlws_json


@pytest.mark.slow
def test_model_12_beats_the_baseline(ws, env):
    for name in ("model_01", "model_12"):
        out = mlws("train", f"+experiment={name}", "logger=none", cwd=ws, env=env)
        assert out.returncode == 0, out.stderr[-3000:]
    first, last = mlws_json("runs", cwd=ws, env=env)
    assert last["experiment"] == "model_12" and last["metrics"]["val/acc"] >= 0.97
    assert first["experiment"] == "model_01" and first["metrics"]["val/acc"] <= last["metrics"]["val/acc"] - 0.2
