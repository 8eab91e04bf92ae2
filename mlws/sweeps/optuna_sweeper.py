"""Optuna's samplers on its ask/tell API (`hydra/sweeper=optuna`). The settings are
hydra-optuna-sweeper's documented `hydra.sweeper.*` keys (mlws/conf/hydra/sweeper/optuna.yaml), its
override grammar is Hydra's (distributions.py).

The study lives in the registry's own database (the SQLite file or the team's PostgreSQL), named
after the sweep, unless `storage`/`study_name` say otherwise; a resume loads it, settles the trials an
earlier driver left open, and asks only for what the study still misses."""

from __future__ import annotations

import math

from ..errors import MlwsError
from . import distributions
from .study import quiet, storage_url, study_name
from .sweeper import Job, SweepContext, Sweeper

DIRECTIONS = {"max": "maximize", "min": "minimize"}


class OptunaSweeper(Sweeper):
    name = "optuna"
    extra = "sweeps"

    def __init__(
        self,
        args,
        *,
        params: dict | None = None,
        sampler: dict | None = None,
        direction=None,
        storage: str | None = None,
        study_name: str | None = None,
        n_trials: int = 20,
        n_jobs: int | None = None,
        max_failure_rate: float | None = None,
    ):
        super().__init__(args, params=params)
        self.sampler = dict(sampler or {"_target_": "optuna.samplers.TPESampler"})
        target = str(self.sampler.get("_target_", ""))
        if not target.startswith("optuna.samplers."):
            raise MlwsError(
                f"hydra.sweeper.sampler._target_={target or '(none)'}: name one of optuna.samplers "
                "(e.g. hydra/sweeper/sampler=random, or optuna.samplers.TPESampler)"
            )
        if not isinstance(n_trials, int) or n_trials < 1:
            raise MlwsError(f"hydra.sweeper.n_trials must be at least 1 (got {n_trials})")
        if n_jobs is not None and (not isinstance(n_jobs, int) or n_jobs < 1):
            raise MlwsError(f"hydra.sweeper.n_jobs must be at least 1 (got {n_jobs})")
        if max_failure_rate is not None and not (
            isinstance(max_failure_rate, (int, float)) and 0 <= max_failure_rate <= 1
        ):
            raise MlwsError(f"hydra.sweeper.max_failure_rate must be between 0 and 1 (got {max_failure_rate})")
        self.direction, self.storage, self.study_name = direction, storage, study_name
        self.n_jobs, self.max_failure_rate = n_jobs, max_failure_rate
        # the sweeper's params first, then the command (as hydra-optuna-sweeper reads them)
        lines = [f"{k}={v}" for k, v in self.params.items()] + list(args.task)
        self._space = distributions.search_space(lines)
        self._grid = self._grid_space(lines) if _walks_a_grid(self._sampler_class()) else None
        self._n_trials = n_trials if self._grid is None else min(n_trials, math.prod(map(len, self._grid.values())))
        self._study = None
        self._left: int | None = None  # trials still to ask for, known once the study is settled
        self._batch: list = []
        self._batch_size = 0

    # -- before anything is recorded ---------------------------------------------------------------
    def jobs_to_check(self) -> list[list[str]]:
        return [list(self.args.representative)]

    @property
    def n_trials(self) -> int:
        return self._n_trials

    def check_objective(self, mode: str) -> None:
        wanted = DIRECTIONS.get(mode, "maximize")
        given = self.direction if self.direction is not None else wanted  # Optuna's own default is no choice
        if isinstance(given, (list, tuple)):
            raise MlwsError("hydra.sweeper.direction: mlws sweeps optimise one objective (monitor.metric)")
        if str(given).lower().split(".")[-1] != wanted:
            raise MlwsError(
                f"hydra.sweeper.direction={given} contradicts monitor.mode={mode}, which decides what is "
                f"best in this sweep; change monitor.mode (or drop the direction)"
            )
        self._direction = wanted

    def record(self) -> dict:
        return {"sampler": self._sampler_class().__name__}

    # -- driving -----------------------------------------------------------------------------------
    def begin(self, context: SweepContext) -> None:
        import optuna

        quiet()
        self.check_objective(context.mode)
        study = optuna.create_study(
            study_name=self.study_name or study_name(context.sweep_id),
            storage=self.storage or storage_url(context.registry_url),
            direction=self._direction,
            load_if_exists=True,
        )
        asked_before = len(study.get_trials(deepcopy=False))
        study.sampler = self._make_sampler(asked_before)
        self._study = study

    def open_jobs(self) -> list[int]:
        from optuna.trial import TrialState

        return [t.number for t in self._study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]

    def remaining(self) -> int:
        """The study's trials still to complete (after an earlier driver's open ones were settled)."""
        from optuna.trial import TrialState

        if self._left is None:
            complete = self._study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            self._left = max(self._n_trials - len(complete), 0)
        return self._left

    def ask(self, slots: int) -> list[Job]:
        trials = [
            self._study.ask({k: d for k, d in self._space.items() if not isinstance(d, str)})
            for _ in range(min(self.remaining(), self.n_jobs or slots))
        ]
        self._left -= len(trials)
        self._batch, self._batch_size = [], len(trials)
        return [
            Job(
                tuple(distributions.override(k, t.params[k]) if k in t.params else v for k, v in self._space.items()),
                t.number,
            )
            for t in trials
        ]

    def tell(self, job: Job, value: float | None) -> None:
        from optuna.trial import TrialState

        try:
            if value is None:
                self._study.tell(job.number, state=TrialState.FAIL)
            else:
                self._study.tell(job.number, value)
        except RuntimeError as e:  # the grid sampler stops the study when the grid is done
            if "Study.stop" not in str(e):
                raise
        self._batch.append(value)
        failed = sum(v is None for v in self._batch)
        if (
            self.max_failure_rate is not None
            and len(self._batch) == self._batch_size
            and failed / self._batch_size > self.max_failure_rate
        ):
            raise MlwsError(
                f"{failed} of {len(self._batch)} trials in a batch failed "
                f"(hydra.sweeper.max_failure_rate={self.max_failure_rate})"
            )

    def done(self) -> bool:
        return self.remaining() <= 0

    # -- the sampler ---------------------------------------------------------------------------------
    def _sampler_class(self):
        import optuna.samplers

        name = str(self.sampler["_target_"]).removeprefix("optuna.samplers.")
        cls = getattr(optuna.samplers, name, None)
        if not isinstance(cls, type):
            raise MlwsError(f"hydra.sweeper.sampler._target_={self.sampler['_target_']} is not in optuna.samplers")
        return cls

    def _make_sampler(self, asked_before: int):
        """Hydra instantiates the sampler node; a seeded sampler restarted would draw the trials it
        already drew, so a resume goes on from a seed of its own, still set by the study's history."""
        from hydra.utils import instantiate

        node = {k: v for k, v in self.sampler.items() if k != "_partial_"}
        if node.get("seed") is not None and asked_before:
            node["seed"] = int(node["seed"]) + asked_before
        if self._grid is not None:
            node["search_space"] = self._grid
        try:
            return instantiate(node, _recursive_=False)  # a nested `_target_` stays a value
        except Exception as e:  # a wrong sampler argument: Hydra wraps the TypeError
            raise MlwsError(f"hydra.sweeper.sampler: {str(e).strip().splitlines()[0]}") from None

    def _grid_space(self, lines: list[str]) -> dict:
        swept = {k for k, d in self._space.items() if not isinstance(d, str)}
        grid = {}
        for line in lines:
            key = line.split("=", 1)[0]
            if key in swept:
                grid[key] = distributions.grid_values(line)
        return grid


def _walks_a_grid(sampler_class) -> bool:
    """Optuna's grid sampler takes the whole grid up front, and the study ends with it."""
    import optuna.samplers

    return issubclass(sampler_class, optuna.samplers.GridSampler)
