"""A model of another data set in the example workspace (whose serve block is the digits canvas, an
8x8 image) is served with what its own data module declared (8 numbers), not answered 422.
Real Lightning on the synthetic example; the model loaded as its server loads it (mlws.load_run)."""

import pytest

from mlws.examples.synthetic import install
from mlws.serving.loading import completed_input

from ..support.helpers import mlws_json


def test_a_run_of_other_data_is_served_with_its_own_data_modules_input(ws, env):
    install(ws)
    run = mlws_json("train", "+experiment=synth_base", cwd=ws, env=env)
    shown = mlws_json("show", str(run["id"]), cwd=ws, env=env)
    assert shown["config"]["serve"]["input"]["shape"] == [1, 8, 8]  # the workspace's block, for digits
    assert shown["artifacts"]["input"]["shape"] == [8]  # what the data module declared
    from mlws import api

    served = api.load_run(run["id"], workspace=ws).predict([[0.5] * 8, [0.0] * 8])
    assert len(served["outputs"] if "outputs" in served else served["predictions"]) == 2, served


@pytest.mark.parametrize(
    "node, seen, expected",
    [
        (
            {"_target_": "mlws.serving.inputs.ImageInput", "shape": [1, 8, 8], "divide_by": 16.0},
            {"shape": [8], "min_value": -3.0},
            {"_target_": "mlws.serving.inputs.TensorInput", "shape": [8], "min_value": -3.0, "max_value": None},
        ),
        (
            {"_target_": "mlws.serving.inputs.ImageInput", "shape": [1, 8, 8]},
            {"shape": [64]},  # the same size
            {"_target_": "mlws.serving.inputs.ImageInput", "shape": [1, 8, 8]},
        ),
        (
            {"_target_": "acme.hooks.Sentence", "shape": [1, 8, 8]},
            {"shape": [8]},  # a user's own hook decides
            {"_target_": "acme.hooks.Sentence", "shape": [1, 8, 8]},
        ),
    ],
)
def test_only_mlws_own_hook_of_another_size_gives_way(node, seen, expected):
    assert completed_input(node, {"input": seen}) == expected
