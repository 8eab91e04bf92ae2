"""`rerun --exact`'s weight check: bit for bit, else the largest difference against a tolerance."""

import numpy as np
from safetensors.numpy import save_file

from mlws.training.exact import compare_weights


def test_identical_close_and_far_weights(tmp_path):
    w = {"layer.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "layer.bias": np.ones(3, np.float32)}
    save_file(w, str(tmp_path / "a.safetensors"))
    save_file(w, str(tmp_path / "b.safetensors"))
    same = compare_weights(tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    assert same["identical"] is True and same["max_abs_diff"] == 0.0
    nudged = dict(w, **{"layer.bias": w["layer.bias"] + np.float32(2e-6)})
    save_file(nudged, str(tmp_path / "c.safetensors"))
    close = compare_weights(tmp_path / "a.safetensors", tmp_path / "c.safetensors")
    assert close["identical"] is False and close["within"] is True and 1e-6 < close["max_abs_diff"] < 1e-5
    far = compare_weights(tmp_path / "a.safetensors", tmp_path / "c.safetensors", tolerance=1e-7)
    assert far["within"] is False
    save_file({"other": np.zeros(3, np.float32)}, str(tmp_path / "d.safetensors"))
    assert compare_weights(tmp_path / "a.safetensors", tmp_path / "d.safetensors")["max_abs_diff"] is None
    assert compare_weights(tmp_path / "a.safetensors", tmp_path / "none.safetensors")["identical"] is None
