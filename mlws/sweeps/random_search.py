"""Random search (`hydra/sweeper=mlws_random`): `n_trials` points drawn independently from the space
by Optuna's RandomSampler, seeded. No feedback and no study: the points are a pure function of the
seed, so a resume draws the same points again and the driver skips those that succeeded (like a
grid). A sweep without a seed gets one, recorded with the sweep for its resume.

    mlws train -m +experiment=model_12 hydra/sweeper=mlws_random hydra.sweeper.n_trials=8 \\
        hydra.sweeper.seed=0 'model.lr=tag(log, interval(1e-4,1e-2))' data.batch_size=32,64"""

from __future__ import annotations

import secrets

from ..errors import MlwsError
from . import distributions
from .sweeper import Job, SweepContext, Sweeper


class RandomSearch(Sweeper):
    name = "random"
    extra = "sweeps"

    def __init__(self, args, *, params: dict | None = None, n_trials: int = 20, seed: int | None = None):
        super().__init__(args, params=params)
        if not isinstance(n_trials, int) or n_trials < 1:
            raise MlwsError(f"hydra.sweeper.n_trials must be at least 1 (got {n_trials})")
        if seed is not None and not isinstance(seed, int):
            raise MlwsError(f"hydra.sweeper.seed must be an integer (got {seed})")
        self._n_trials, self.seed = n_trials, seed
        self._space = distributions.search_space([f"{k}={v}" for k, v in self.params.items()] + list(args.task))
        self._asked = False

    def jobs_to_check(self) -> list[list[str]]:
        return [list(self.args.representative)]

    @property
    def n_trials(self) -> int:
        return self._n_trials

    def record(self) -> dict:
        return {"sampler": "RandomSampler"}

    def begin(self, context: SweepContext) -> None:
        if self.seed is None:
            self.seed = context.state.get("seed", secrets.randbelow(2**31))

    def state(self) -> dict:
        return {"seed": self.seed}

    def ask(self, slots: int) -> list[Job]:
        """Every point at once (nothing to learn from a result): the driver runs `slots` at a time."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=self.seed))  # in memory
        sampled = {k: d for k, d in self._space.items() if not isinstance(d, str)}
        self._asked = True
        jobs = []
        for _ in range(self._n_trials):
            params = study.ask(sampled).params
            jobs.append(
                Job(
                    tuple(
                        distributions.override(k, params[k]) if k in sampled else line
                        for k, line in self._space.items()
                    )
                )
            )
        return jobs

    def done(self) -> bool:
        return self._asked
