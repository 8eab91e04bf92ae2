"""Request checks of the model server as pure functions (the HTTP tests keep a few of these cases
end to end): body parsing, sample validation, the bearer token, and loading only plain weights."""

import json
import pickle

import pytest

from mlws.errors import MlwsError
from mlws.serving.inputs import MAX_DEPTH, BadRequest, ImageInput, authorized, parse_body

from ..support.helpers import PicklePayload

DIGIT = ImageInput(shape=(1, 8, 8), min_value=0.0, max_value=16.0, divide_by=16.0, normalize=True)


def refused(body: bytes, max_samples: int = 256) -> tuple[int, str]:
    with pytest.raises(BadRequest) as e:
        DIGIT(parse_body(body, max_samples))
    return e.value.status, e.value.message


@pytest.mark.parametrize(
    "body, status, needle",
    [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b'{"inputs": []}', 400, "is empty"),
        (b"[1, 2]", 400, "expected a JSON object"),
        (b'{"inputs": 5}', 400, "must be a list"),
        (b'{"inputs": [[1, 2, 3]]}', 422, "expected 64 numbers (shape [1, 8, 8]), got 3"),
        (b'{"inputs": [["x"]]}', 422, "inputs[0][0]: expected numbers, got str"),
        (b'{"inputs": [[NaN]]}', 422, "must be finite"),
        (b'{"inputs": [[-Infinity]]}', 422, "must be finite"),
        (b'{"inputs": [[true]]}', 422, "expected numbers, got bool"),
        (b'{"inputs": [[null]]}', 422, "expected numbers, got NoneType"),
        (b'{"inputs": [{"a": 1}]}', 422, "expected numbers, got dict"),
        (json.dumps({"inputs": [[99.0] * 64]}).encode(), 422, "within [0.0, 16.0], got [99.0, 99.0]"),
        (json.dumps({"inputs": [[0.0] * 64] * 300}).encode(), 413, "300 samples in one request; the limit is 256"),
        (b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "nested too deeply"),
        (b'{"inputs": [' + b"[" * 40 + b"0.0" + b"]" * 40 + b"]}", 422, f"nested more than {MAX_DEPTH} levels deep"),
    ],
)
def test_bad_bodies(body, status, needle):
    got, message = refused(body)
    assert got == status and needle in message, message


def test_good_bodies_nested_or_flat_give_the_same_tensor():
    image = [[float((r * 8 + c) % 17) for c in range(8)] for r in range(8)]
    nested = DIGIT(parse_body(json.dumps({"inputs": [image, image]}).encode(), 256))
    flat = DIGIT(parse_body(json.dumps({"inputs": [sum(image, [])]}).encode(), 256))
    assert tuple(nested.shape) == (2, 1, 8, 8) and tuple(flat.shape) == (1, 1, 8, 8)
    assert (nested[0] == flat[0]).all() and float(flat.max()) == 1.0  # divided by 16


@pytest.mark.parametrize(
    "header, token, ok",
    [
        (None, None, True),
        ("anything", None, True),
        (None, "t0k", False),
        ("Bearer wrong", "t0k", False),
        ("bearer t0k", "t0k", True),
        ("BEARER t0k", "t0k", True),
        ("Bearer t0k ", "t0k", False),
        ("Bearer t0k", "t0k", True),
    ],
)
def test_bearer_token(header, token, ok):
    assert authorized(header, token) is ok


def test_only_plain_weights_load(tmp_path):
    import torch

    from mlws.serving.loading import load_weights

    good = tmp_path / "good.ckpt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "epoch": 3}, good)
    assert list(load_weights(good)) == ["w"]
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"state_dict": {}, "x": PicklePayload(marker)}))
    with pytest.raises(MlwsError, match="refusing checkpoint .* not plain weights"):
        load_weights(evil)
    assert not marker.exists()
    empty = tmp_path / "empty.ckpt"
    torch.save({"state_dict": {}}, empty)
    with pytest.raises(MlwsError, match="holds no state_dict"):
        load_weights(empty)


def test_the_vectorised_path_agrees_with_the_per_sample_checks():
    """Large bodies take one numpy pass; every bad one still gets the per-sample message."""
    big = ImageInput(shape=(1, 28, 28), min_value=0.0, max_value=16.0, divide_by=16.0, normalize=True)
    image = [[float((r + c) % 17) for c in range(28)] for r in range(28)]
    fast = big([image] * 3)
    big_slow = ImageInput(shape=(1, 28, 28), min_value=0.0, max_value=16.0, divide_by=16.0, normalize=True)
    big_slow._vectorised = lambda samples: None
    assert (fast == big_slow([image] * 3)).all() and tuple(fast.shape) == (3, 1, 28, 28)
    for bad, needle in [
        ([[True] * 784], "got bool"),
        ([["1"] * 784], "got str"),
        ([[float("nan")] * 784], "finite"),
        ([[99.0] * 784], "within [0.0, 16.0]"),
        ([[0.0] * 783], "expected 784 numbers"),
    ]:
        with pytest.raises(BadRequest, match=needle.replace("[", "\\[").replace("]", "\\]")):
            big(bad)


def test_an_unset_input_shape_and_range_come_from_the_data_module():
    from mlws.serving.loading import completed_input
    from mlws.training.builder import _data_input

    class Data:
        input_shape, input_range = (3, 4, 4), (0, 255)

    seen = _data_input(Data())
    assert seen == {"input": {"shape": [3, 4, 4], "min_value": 0.0, "max_value": 255.0}}
    node = {"_target_": "mlws.serving.inputs.TensorInput", "shape": None, "min_value": None, "max_value": None}
    assert completed_input(node, seen) == {**node, "shape": [3, 4, 4], "min_value": 0.0, "max_value": 255.0}
    # what the config says wins; keys a hook does not take are not added
    own = {"_target_": "x.Mine", "shape": [2], "min_value": -1.0}
    assert completed_input(own, seen) == own
    assert _data_input(object()) == {}
    with pytest.raises(MlwsError, match="serve.input.shape is not set and the run's data module has no `input_shape`"):
        completed_input(node, {})
