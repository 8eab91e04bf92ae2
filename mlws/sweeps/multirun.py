"""Hydra's multirun with mlws's plugins: hydra_plugins.mlws_sweeper asks the sweep's adapter (grid,
Optuna, random, ...) for jobs and hands them, batch by batch, to hydra_plugins.mlws_launcher."""

from __future__ import annotations

from contextlib import contextmanager

from ..config import hydra_app, searchpath_override
from ..errors import MlwsError
from ..workspace import Workspace


def sweeper_settings(ws: Workspace, overrides: list[str]) -> dict:
    """The composed `hydra.sweeper` node (its `_target_`, `params`, `n_trials`, ...) as plain data."""
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    try:
        with hydra_app(ws, overrides) as hydra:
            cfg = hydra.compose_config("config", [searchpath_override(ws), *overrides], run_mode=RunMode.MULTIRUN)
            return OmegaConf.to_container(cfg.hydra.sweeper, resolve=True)
    except MlwsError as e:
        if "validated against ConfigStore schema" in str(e):  # another package registers the same sweeper name
            raise MlwsError(
                f"{e}: a sweeper plugin installed beside mlws registers the same name (mlws brings its "
                "own Optuna sweeper; remove the other one: pip uninstall hydra-optuna-sweeper)"
            ) from None
        raise


PLUGINS = ["hydra/launcher=mlws", "hydra.sweeper._target_=hydra_plugins.mlws_sweeper.mlws_sweeper.MlwsSweeper"]


def run(ws: Workspace, overrides: list[str]) -> None:
    """Hydra's multirun over these overrides with mlws's sweeper and launcher (the active driver and
    its sweeper get the jobs). Hydra's own basic sweeper is run by mlws's plugin as the grid."""

    with hydra_app(ws, overrides) as hydra:
        hydra.multirun(
            "config", _not_called, [searchpath_override(ws), *PLUGINS, *overrides], with_log_configuration=False
        )


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
