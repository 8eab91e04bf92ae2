"""`mlws ablate` of the synthetic example for real (Lightning trains each configuration): of the four
keys synth_base → synth_four changes, only the learning rate matters, and the ablation gives it the
whole gain. One seed per configuration keeps this to eight short trainings (two runs are reused)."""

from __future__ import annotations

import pytest

from mlws.examples.synthetic import install

from ..support.helpers import mlws_json


@pytest.mark.slow
def test_the_synthetic_step_is_bought_by_its_learning_rate(ws, env):
    install(ws)
    parent = mlws_json("train", "+experiment=synth_base", cwd=ws, env=env)
    run = mlws_json("train", "+experiment=synth_four", cwd=ws, env=env)
    assert mlws_json("show", str(run["id"]), cwd=ws, env=env)["parent_id"] == parent["id"]
    result = mlws_json("ablate", str(run["id"]), "--seeds", "1", "--parallel", "2", cwd=ws, env=env)
    assert result["metric"] == "val/score" and result["reused"] == 2 and result["trained"] == 8
    assert sorted(result["effects"]) == ["data.val_batch_size", "model.lr", "model.tag", "trainer.enable_progress_bar"]
    assert result["gain"]["estimate"] > 0.1
    assert result["effects"]["model.lr"]["share"]["estimate"] >= 0.8
    for key in ("data.val_batch_size", "model.tag", "trainer.enable_progress_bar"):
        assert abs(result["effects"][key]["share"]["estimate"]) < 0.05, key
    assert mlws_json("show", str(run["id"]), cwd=ws, env=env)["parent_id"] == parent["id"]
