"""Hydra's multirun, driven with mlws's launcher: Hydra's sweeper (basic grid, Optuna, ...) decides
the trials and hands them, batch by batch, to hydra_plugins.mlws_launcher."""
from __future__ import annotations

from contextlib import contextmanager

from ..config import hydra_app, searchpath_override
from ..errors import MlwsError
from ..workspace import Workspace


def sweeper_settings(ws: Workspace, overrides: list[str]) -> dict:
    """The composed `hydra.sweeper` node (its `_target_`, `params`, `n_trials`, ...) as plain data."""
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    with hydra_app(ws, overrides) as hydra:
        cfg = hydra.compose_config("config", [searchpath_override(ws), *overrides], run_mode=RunMode.MULTIRUN)
        return OmegaConf.to_container(cfg.hydra.sweeper, resolve=True)


def run(ws: Workspace, overrides: list[str]) -> None:
    """Hydra's multirun over these overrides with the mlws launcher (the active driver gets the jobs)."""

    with hydra_app(ws, overrides) as hydra:
        hydra.multirun("config", _not_called, [searchpath_override(ws), "hydra/launcher=mlws", *overrides],
                       with_log_configuration=False)


def _not_called(cfg) -> None:  # the mlws launcher runs each trial as an mlws run, never in-process
    raise AssertionError("mlws sweeps run trials through their launcher")


@contextmanager
def hydra_set_aside():
    """Plan a trial while a multirun holds Hydra's global state: composing needs it free."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.singleton import Singleton

    held = Singleton._instances.pop(GlobalHydra, None)
    try:
        yield
    finally:
        if held is not None:
            Singleton._instances[GlobalHydra] = held


def grid_jobs(params: dict, overrides: list[str]) -> list[list[str]]:
    """The jobs Hydra's basic sweeper will ask for (its own expansion), to plan them all up front."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    args = [f"{k}={v}" for k, v in params.items()] + list(overrides)
    try:
        parsed = OverridesParser.create().parse_overrides(args)
        return [list(job) for job in BasicSweeper.split_arguments(parsed, None)[0]]
    except HydraException as e:
        message = str(e).strip().splitlines()[0]
        if "does not support sweep type" in message:
            message = "the basic (grid) sweeper takes lists and ranges; interval(...) needs a sampling sweeper: add hydra/sweeper=optuna"
        raise MlwsError(message) from None
