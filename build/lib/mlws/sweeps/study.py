"""An Optuna sweep's study, kept in the registry's own database (the SQLite file or the team's
PostgreSQL), named after the sweep; linking its trials to runs, and settling it on a resume."""
from __future__ import annotations

import logging
import warnings


def storage_url(registry_url: str) -> str:
    """SQLAlchemy's URL for the registry's database (psycopg 3 is the PostgreSQL driver mlws ships)."""
    for prefix in ("postgresql://", "postgres://"):
        if registry_url.startswith(prefix):
            return "postgresql+psycopg://" + registry_url[len(prefix):]
    return registry_url


def study_name(sweep_id: int) -> str:
    return f"mlws-sweep-{sweep_id}"


def quiet() -> None:
    """Optuna's info logs and the sweeper's deprecated-distribution warnings are not the user's."""
    import optuna
    optuna.logging.set_verbosity(logging.WARNING)
    # the sweeper logs each failed trial as "Return value must be float-castable"; mlws says why itself
    logging.getLogger("hydra_plugins.hydra_optuna_sweeper._impl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(optuna|hydra_plugins)\b.*")
    warnings.filterwarnings("ignore", message=r".*(Distribution|deprecated).*")


class StudyLink:
    """The study of one sweep: which Optuna trial a job is, what to tell it."""

    def __init__(self, registry_url: str, sweep_id: int):
        self.url, self.name = storage_url(registry_url), study_name(sweep_id)
        self._storage = None
        self._claimed: set[int] = set()

    def _study(self):
        import optuna
        quiet()
        if self._storage is None:
            self._storage = optuna.storages.RDBStorage(self.url)
        try:
            return optuna.load_study(study_name=self.name, storage=self._storage)
        except KeyError:  # not created yet: a fresh sweep
            return None

    def _running(self):
        from optuna.trial import TrialState
        study = self._study()
        return [] if study is None else study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))

    def claim(self, overrides: list[str]) -> int | None:
        """The number of the running Optuna trial these overrides came from (the sweeper writes
        `name=value` for each of its parameters)."""
        given = set(overrides)
        for trial in self._running():
            if trial.number not in self._claimed and {f"{k}={v}" for k, v in trial.params.items()} <= given:
                self._claimed.add(trial.number)
                return trial.number
        return None

    def running_numbers(self) -> list[int]:
        return [t.number for t in self._running()]

    def tell(self, number: int, value: float | None) -> None:
        from optuna.trial import TrialState
        study = self._study()
        if value is None:
            study.tell(number, state=TrialState.FAIL)
        else:
            study.tell(number, value)

    def size(self) -> int:
        """Trials the study has asked for, in any state."""
        study = self._study()
        return 0 if study is None else len(study.get_trials(deepcopy=False))

    def completed(self) -> int:
        from optuna.trial import TrialState
        study = self._study()
        return 0 if study is None else len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
