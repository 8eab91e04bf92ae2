"""Hydra's launcher for mlws sweeps (`hydra/launcher=mlws`): each job Hydra's sweeper asks for
becomes an mlws run, started by the sweep's driver on the run's own compute backend.

Hydra instantiates launchers only from the `hydra_plugins` package, hence this thin adapter; the
work is in mlws.sweeps.driver."""

from collections.abc import Sequence
from dataclasses import dataclass

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.launcher import Launcher


@dataclass
class MlwsLauncherConf:
    _target_: str = "hydra_plugins.mlws_launcher.mlws_launcher.MlwsLauncher"


ConfigStore.instance().store(group="hydra/launcher", name="mlws", node=MlwsLauncherConf, provider="mlws")


class MlwsLauncher(Launcher):
    def __init__(self) -> None:
        self.config = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config = config

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from mlws.sweeps.driver import active_driver

        values = active_driver().launch([list(o) for o in job_overrides])
        # A failed trial is COMPLETED with no value: Hydra's basic sweeper goes on (a FAILED job
        # would end the sweep), Optuna's sweeper records it as a failed trial (it needs a number).
        return [
            JobReturn(overrides=list(o), status=JobStatus.COMPLETED, _return_value=v)
            for o, v in zip(job_overrides, values)
        ]
