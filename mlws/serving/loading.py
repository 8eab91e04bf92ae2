"""A run's model, rebuilt from its `_target_` config and its best checkpoint's weights.

Checkpoints load with torch.load(weights_only=True): tensors and plain containers only, so a
checkpoint carrying a pickled payload (code to run) is refused instead of executed.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import MlwsError


def checkpoint_path(record: dict) -> Path:
    ckpts = (record.get("artifacts") or {}).get("checkpoints") or {}
    path = ckpts.get("best") or ckpts.get("last")
    if not path or not Path(path).is_file():
        raise MlwsError(f"run {record['id']} has no checkpoint to serve (status {record['status']})")
    return Path(path)


def load_weights(path: Path) -> dict:
    import pickle

    import torch
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MlwsError(f"refusing checkpoint {path}: it is not plain weights "
                        f"(loading it would run pickled code): {first}") from None
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not state:
        raise MlwsError(f"checkpoint {path} holds no state_dict")
    return state


def load_model(config: dict, path: Path):
    """The LightningModule from config['model'] with the checkpoint's weights, in eval mode."""
    from hydra.utils import instantiate
    state = load_weights(path)
    try:
        model = instantiate(config["model"])
        model.load_state_dict(state)
    except Exception as e:
        raise MlwsError(f"cannot rebuild the model from the run's config and {path.name}: {e}") from None
    return model.eval()


def input_hook(config: dict):
    """The run's serve.input hook (JSON samples → the model's input tensor), as its server builds it."""
    from hydra.utils import instantiate
    try:
        return instantiate((config.get("serve") or {})["input"])
    except Exception as e:
        raise MlwsError(f"cannot build serve.input from the run's config: {e}") from None
