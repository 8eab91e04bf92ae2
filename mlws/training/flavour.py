"""Which Lightning package trains a run: the one its LightningModule is written with.

`lightning.pytorch` (`import lightning as L`) and `pytorch_lightning` are one library shipped twice,
with separate class hierarchies: a Trainer of one refuses a module, data module, callback, logger or
strategy of the other. The user never says which: mlws reads it off the model's classes and builds
the Trainer, the configured callbacks and logger, and its own callbacks from the same package.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import RunFailed

PACKAGES = ("lightning.pytorch", "pytorch_lightning")
# `import lightning as L; L.Trainer`: the names the unified package re-exports from lightning.pytorch
_TOP_LEVEL = {"Trainer", "Callback", "LightningModule", "LightningDataModule", "seed_everything"}


def _package_of_class(cls: type, base_name: str) -> str | None:
    for klass in cls.__mro__:
        if klass.__name__ == base_name:
            for name in PACKAGES:
                if klass.__module__ == name or klass.__module__.startswith(name + "."):
                    return name
    return None


def package_of(model) -> str:
    """`lightning.pytorch` or `pytorch_lightning`: where the model's LightningModule comes from."""
    name = _package_of_class(type(model), "LightningModule")
    if name is None:
        raise RunFailed(
            f"model: {_qualname(model)} is not a LightningModule (of lightning.pytorch or pytorch_lightning)"
        )
    return name


def load(package: str) -> ModuleType:
    return importlib.import_module(package)


def retarget(target: str, package: str) -> str:
    """A config's Lightning class in the run's package: `pytorch_lightning.Trainer` <->
    `lightning.pytorch.Trainer`, and `lightning.Trainer`; any other target unchanged."""
    for prefix in PACKAGES:
        if target.startswith(prefix + "."):
            return package + target[len(prefix) :]
    if target.startswith("lightning.") and target.split(".")[1] in _TOP_LEVEL:
        return f"{package}.{target.split('.', 1)[1]}"
    return target


def retargeted(node, package: str):
    """A copy of a config node with every `_target_` in it retargeted (a Trainer's profiler too)."""
    if isinstance(node, dict):
        return {
            k: retarget(v, package) if k == "_target_" and isinstance(v, str) else retargeted(v, package)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [retargeted(v, package) for v in node]
    return node


class Hooks:
    """Base of mlws's own callbacks: Lightning hooks without a Lightning class, so one callback
    serves either package; `adopt` gives each instance the run's Callback base."""


_ADOPTED: dict = {}


def adopt(callback, pl: ModuleType, where: str):
    """The callback, as a Callback of the run's package; a callback of the other package is refused
    with the reason (Lightning would say only "Expected a parent")."""
    if isinstance(callback, pl.Callback):
        return callback
    if isinstance(callback, Hooks):
        cls = type(callback)
        if (cls, pl.__name__) not in _ADOPTED:
            _ADOPTED[cls, pl.__name__] = type(cls.__name__, (cls, pl.Callback), {"__module__": cls.__module__})
        callback.__class__ = _ADOPTED[cls, pl.__name__]
        return callback
    other = _package_of_class(type(callback), "Callback")
    if other:
        raise RunFailed(mixed(where, callback, f"a {other} Callback", pl.__name__))
    raise RunFailed(f"{where}: {_qualname(callback)} is not a Lightning Callback")


def check_data(datamodule, package: str) -> None:
    other = _package_of_class(type(datamodule), "LightningDataModule")
    if other and other != package:
        raise RunFailed(mixed("data", datamodule, f"a {other} LightningDataModule", package))


def mixed(where: str, obj, what: str, package: str) -> str:
    return (
        f"{where}: {_qualname(obj)} is {what}, but the model is a {package} LightningModule; "
        "Lightning cannot mix the two packages: write both with one (`import lightning as L` "
        "or `import pytorch_lightning as pl`)"
    )


def _qualname(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"
