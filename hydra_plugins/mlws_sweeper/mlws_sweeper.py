"""Hydra's sweeper for mlws sweeps: the sweep's adapter (mlws.sweeps.sweeper.Sweeper: grid, Optuna,
random, ...) asks for jobs, Hydra's launcher (hydra_plugins.mlws_launcher) runs them, their values go
back to the adapter, until it is done.

Its config nodes are YAML in mlws's packaged conf (mlws/conf/hydra/sweeper/: `optuna`,
`mlws_random`), each naming its adapter; Hydra instantiates sweepers only from the `hydra_plugins`
package, hence this thin class. The adapter is the one the sweep's driver holds (built from the
same composed node before anything was recorded), so its trials and the runs agree."""

from typing import Any

from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper


class MlwsSweeper(Sweeper):
    def __init__(self, **settings: Any) -> None:
        self.settings = settings  # already read by the adapter: mlws.sweeps.sweeper.sweeper_for
        self.launcher = None
        self.job_idx = 0

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )

    def sweep(self, arguments: list[str]) -> None:
        from mlws.sweeps.driver import active_driver
        from mlws.sweeps.sweeper import run_trials

        driver = active_driver()

        def launch(jobs: list[list[str]]) -> list:
            returns = self.launcher.launch(jobs, initial_job_idx=self.job_idx)
            self.job_idx += len(returns)
            return [r.return_value for r in returns]

        run_trials(driver.sweeper, launch, driver.parallel)
