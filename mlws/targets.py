"""A class named by a dotted `_target_` string, imported the way Hydra's instantiate imports one:
how code below the compute layer (the worker on a node) reaches the run's backend, a plugin its
config names, without importing the layer that defines backends."""

from __future__ import annotations

import importlib

from .errors import MlwsError


def load_class(target: str, what: str) -> type:
    """The class `target` names; `what` (e.g. "compute._target_") starts the error's one line."""
    module_name, _, cls_name = str(target).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError, ValueError) as e:
        raise MlwsError(f"{what}: cannot import {target!r}: {e}") from None
    if not isinstance(cls, type):
        raise MlwsError(f"{what}: {target!r} is not a class")
    return cls
