"""Next to every checkpoint Lightning writes, the model's weights as safetensors: a format that
holds tensors only, so loading it for inference can never run code. Lightning's .ckpt (which may
pickle the module's hyperparameters: a `net` module, a functools.partial optimizer) stays for
resuming the run that wrote it; serving and `mlws.load_run` read the .safetensors file."""

from __future__ import annotations

import os

SUFFIX = ".safetensors"


def sidecar(checkpoint_path: str) -> str:
    return os.path.splitext(checkpoint_path)[0] + SUFFIX


def add_safe_weights(checkpoint_callback) -> None:
    """Make this ModelCheckpoint (whatever its class) also write and remove the weights file."""
    base = type(checkpoint_callback)
    checkpoint_callback.__class__ = _with_safe_weights(base)


_CLASSES: dict = {}


def _with_safe_weights(base: type) -> type:
    if base not in _CLASSES:

        def _save_checkpoint(self, trainer, filepath: str) -> None:
            base._save_checkpoint(self, trainer, filepath)
            if trainer.is_global_zero:
                write_weights(trainer.lightning_module, sidecar(filepath))

        def _remove_checkpoint(self, trainer, filepath: str) -> None:
            base._remove_checkpoint(self, trainer, filepath)
            if trainer.is_global_zero and os.path.exists(sidecar(filepath)):
                os.remove(sidecar(filepath))

        _CLASSES[base] = type(
            base.__name__,
            (base,),
            {
                "_save_checkpoint": _save_checkpoint,
                "_remove_checkpoint": _remove_checkpoint,
                "__module__": base.__module__,
            },
        )
    return _CLASSES[base]


def write_weights(module, path: str) -> None:
    """Atomically: a reader never sees half a file."""
    from safetensors.torch import save_model

    tmp = f"{path}.tmp"
    save_model(module, tmp)  # handles tied weights (one tensor stored once)
    os.replace(tmp, path)
