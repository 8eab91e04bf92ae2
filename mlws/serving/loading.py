"""A run's model, rebuilt from its `_target_` config and its best checkpoint's weights.

The weights come from the safetensors file written next to each checkpoint (tensors only: nothing
in it can run). A run recorded before those files existed falls back to the .ckpt, loaded with
torch.load(weights_only=True): a checkpoint carrying a pickled payload is refused, not executed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MlwsError


def checkpoint_path(record: Mapping[str, Any]) -> Path:
    """The weights to load for inference: the best (else last) checkpoint's safetensors file, or
    the .ckpt itself for a run recorded before those existed."""
    ckpts = (record.get("artifacts") or {}).get("checkpoints") or {}
    path = ckpts.get("best") or ckpts.get("last")
    if not path or not Path(path).is_file():
        raise MlwsError(f"run {record['id']} has no checkpoint to serve (status {record['status']})")
    safe = Path(path).with_suffix(".safetensors")
    return safe if safe.is_file() else Path(path)


def load_weights(path: Path) -> dict:
    """The tensors in a weights file (safetensors) or a checkpoint's state_dict (plain weights only)."""
    if Path(path).suffix == ".safetensors":
        return _safetensors(path)
    import pickle

    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MlwsError(
            f"refusing checkpoint {path}: it is not plain weights (loading it would run pickled code): {first}"
        ) from None
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not state:
        raise MlwsError(f"checkpoint {path} holds no state_dict")
    return state


def _safetensors(path: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise MlwsError(f"refusing weights file {path}: it is not a readable safetensors file ({e})") from None
    if not state:
        raise MlwsError(f"weights file {path} holds no tensors")
    return state


def load_model(config: dict, path: Path):
    """The LightningModule from config['model'] with the weights file's tensors, in eval mode."""
    from hydra.utils import instantiate

    state = load_weights(path)  # refuses a tampered file before any user code is built
    try:
        model = instantiate(config["model"])
        if Path(path).suffix == ".safetensors":
            from safetensors.torch import load_model as load_safetensors

            load_safetensors(model, str(path))  # restores tied weights stored once
        else:
            model.load_state_dict(state)
    except Exception as e:
        raise MlwsError(f"cannot rebuild the model from the run's config and {path.name}: {e}") from None
    return model.eval()


def input_hook(config: dict, artifacts: dict | None = None):
    """The run's serve.input hook (JSON samples → the model's input tensor), as its server builds it."""
    from hydra.utils import instantiate

    node = completed_input((config.get("serve") or {})["input"], artifacts)
    try:
        return instantiate(node)
    except Exception as e:
        raise MlwsError(f"cannot build serve.input from the run's config: {e}") from None


def output_hook(config: dict):
    """The run's serve.output hook (model outputs → the JSON answer); classification when unset
    (runs recorded before the hook existed)."""
    from hydra.utils import instantiate

    node = (config.get("serve") or {}).get("output") or {"_target_": "mlws.serving.outputs.Classification"}
    try:
        return instantiate(node)
    except Exception as e:
        raise MlwsError(f"cannot build serve.output from the run's config: {e}") from None


def _written_for_other_data(node: dict, seen: dict) -> bool:
    """mlws's own input hook set to a shape of another size than the run's data module declared."""
    import math

    shape, declared = node.get("shape"), seen.get("shape")
    if not shape or not declared or not str(node.get("_target_", "")).startswith("mlws.serving.inputs."):
        return False
    return math.prod(int(d) for d in shape) != math.prod(int(d) for d in declared)


def completed_input(node: dict, artifacts: dict | None) -> dict:
    """serve.input with the shape and value range it leaves unset (null) taken from what the run's
    data module said of a sample at training (its `input_shape` and `input_range`)."""
    seen = (artifacts or {}).get("input") or {}
    node = dict(node)
    if _written_for_other_data(node, seen):
        # a workspace's serve block for another data set (the digits canvas for a model of 8 numbers):
        # the model takes what it was trained on, as plain numbers of that shape and range
        return {
            "_target_": "mlws.serving.inputs.TensorInput",
            "shape": list(seen["shape"]),
            "min_value": seen.get("min_value"),
            "max_value": seen.get("max_value"),
        }
    for key in ("shape", "min_value", "max_value"):
        if key in node and node[key] is None and seen.get(key) is not None:
            node[key] = seen[key]
    if "shape" in node and node["shape"] is None:
        raise MlwsError(
            "serve.input.shape is not set and the run's data module has no `input_shape`: "
            "set it (e.g. serve.input.shape=[3,32,32]) or give the data module an `input_shape`"
        )
    return node
