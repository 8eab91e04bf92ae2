"""The sweeper contract: what chooses a sweep's trials. One adapter per way of choosing (grid.py,
optuna_sweeper.py, random_search.py), picked by config, never by name:

    hydra/sweeper=optuna        → mlws/conf/hydra/sweeper/optuna.yaml  → `adapter: mlws.sweeps.optuna_sweeper.OptunaSweeper`
    hydra/sweeper=mlws_random   → mlws/conf/hydra/sweeper/mlws_random.yaml → `adapter: mlws.sweeps.random_search.RandomSearch`
    (Hydra's default, basic)    → Hydra's BasicSweeper node, read as the grid

The composed `hydra.sweeper` node's other keys are the adapter's keyword arguments (a typo is an
unknown argument: one clear message). A new sweeper is one Sweeper subclass and one YAML naming it.

Before anything is recorded, `jobs_to_check` are planned and validated, and `check_objective` sees
the runs' monitor.mode. Then `begin` binds the adapter to the sweep (its id, where its state lives,
what an earlier driver left), and mlws's Hydra sweeper plugin (hydra_plugins/mlws_sweeper) loops:
`ask` a batch → mlws's launcher runs it → `tell` each job's value, until `done`."""

from __future__ import annotations

import importlib
import inspect
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from ..errors import MlwsError
from .space import SweepArgs

# Hydra's own sweepers mlws reads as one of its adapters (a node without an `adapter` key)
HYDRA_SWEEPERS = {"hydra._internal.core_plugins.basic_sweeper.BasicSweeper": "mlws.sweeps.grid.GridSweeper"}
NOT_SETTINGS = ("_target_", "_recursive_", "adapter")  # read by Hydra and by `sweeper_for`


@dataclass(frozen=True)
class Job:
    """One trial to run: its overrides, and the sweeper's own number for it (Optuna's trial number;
    recorded on the run as `study_trial`), if it keeps one."""

    overrides: tuple[str, ...]
    number: int | None = None


@dataclass(frozen=True)
class SweepContext:
    """What `begin` gets: the sweep it now drives."""

    sweep_id: int
    registry_url: str
    mode: str  # monitor.mode of the runs: "max" or "min"
    parallel: int
    state: dict  # what `state()` returned when this sweep was last recorded ({} for a new one)


class Sweeper(ABC):
    name: ClassVar[str]  # recorded as the sweep's sweeper ("basic", "optuna", "random")
    extra: ClassVar[str | None] = None  # the mlws extra its libraries come with (`pip install 'mlws[sweeps]'`)

    def __init__(self, args: SweepArgs, *, params: dict | None = None):
        self.args = args
        self.params = {str(k): str(v) for k, v in (params or {}).items()}  # hydra.sweeper.params
        self._numbers: dict[tuple, list[int]] = {}

    # -- before anything is recorded ---------------------------------------------------------------
    @property
    def space(self) -> dict:
        """The search space: the sweeper's `params` from the config, then the command's swept keys."""
        return {**self.params, **self.args.swept}

    @abstractmethod
    def jobs_to_check(self) -> list[list[str]]:
        """Jobs to plan and validate up front: every one a grid will run, or one point of a sampled space."""

    @property
    @abstractmethod
    def n_trials(self) -> int:
        """How many trials this sweep runs in all."""

    def check_objective(self, mode: str) -> None:
        """The runs' monitor.mode decides what is best; raise MlwsError where a setting contradicts it."""

    def record(self) -> dict:
        """Fields for the sweep's recorded settings (e.g. the sampler)."""
        return {}

    # -- driving -----------------------------------------------------------------------------------
    def begin(self, context: SweepContext) -> None:
        """Bind to the sweep (where its state lives); called once before the first `ask`."""

    def state(self) -> dict:
        """What a resume of this sweep needs besides its overrides (recorded with its settings)."""
        return {}

    def open_jobs(self) -> list[int]:
        """Numbers of jobs asked by an earlier driver and never told (to settle on a resume)."""
        return []

    def remaining(self) -> int:
        """Trials still to ask for (after `begin`)."""
        return self.n_trials

    @abstractmethod
    def ask(self, slots: int) -> list[Job]:
        """The next batch of jobs (`slots` run at a time); a sweeper without feedback may give them all."""

    def tell(self, job: Job, value: float | None) -> None:
        """A job's objective value; None when its trial did not succeed. No-op for a sweeper without feedback."""

    @abstractmethod
    def done(self) -> bool:
        """True when there is nothing left to ask."""

    # -- which job a launched trial is ----------------------------------------------------------------
    def asked(self, jobs: list[Job]) -> list[Job]:
        for job in jobs:
            if job.number is not None:
                self._numbers.setdefault(_key(job.overrides), []).append(job.number)
        return jobs

    def number_of(self, overrides: list[str]) -> int | None:
        """The number of the asked job with these overrides (in any order), once per job."""
        numbers = self._numbers.get(_key(overrides))
        return numbers.pop(0) if numbers else None


def _key(overrides) -> tuple:
    return tuple(sorted(overrides))


def sweeper_for(settings: dict, args: SweepArgs, workspace=None) -> Sweeper:
    """The adapter the composed `hydra.sweeper` node names, built from its other keys. `workspace`:
    its root is importable, so a sweeper can live in the team's own code (as a backend can)."""
    target = str(settings.get("_target_", ""))
    path = settings.get("adapter") or HYDRA_SWEEPERS.get(target)
    if not path:
        raise MlwsError(
            f"hydra/sweeper: '{target}' is not a sweeper mlws can drive; choose basic (a grid, the "
            "default), hydra/sweeper=optuna or hydra/sweeper=mlws_random, or give its config an "
            "`adapter:` (a mlws.sweeps.sweeper.Sweeper subclass)"
        )
    cls = _load(str(path), workspace)
    if cls.extra:
        from ..extras import require

        require(cls.extra, f"the {cls.name} sweeper")
    kwargs = {k: v for k, v in settings.items() if k not in NOT_SETTINGS}
    known = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "args")]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise MlwsError(
            f"hydra.sweeper.{unknown[0]} is not a setting of the {cls.name} sweeper (its settings: {', '.join(known)})"
        )
    return cls(args, **kwargs)


def _load(path: str, workspace=None) -> type[Sweeper]:
    module, _, name = path.rpartition(".")
    if workspace is not None and str(workspace) not in sys.path and not module.startswith("mlws."):
        sys.path.insert(0, str(workspace))
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as e:
        raise MlwsError(f"hydra.sweeper.adapter={path} cannot be imported: {e}") from None
    if not (isinstance(cls, type) and issubclass(cls, Sweeper)):
        raise MlwsError(f"hydra.sweeper.adapter={path} is not a mlws.sweeps.sweeper.Sweeper")
    return cls


def run_trials(sweeper: Sweeper, launch: Callable[[list[list[str]]], list[float | None]], slots: int) -> None:
    """The loop mlws's Hydra sweeper plugin runs: ask, launch, tell, until the sweeper is done."""
    while not sweeper.done():
        jobs = sweeper.asked(sweeper.ask(slots))
        if not jobs:
            return
        for job, value in zip(jobs, launch([list(j.overrides) for j in jobs])):
            sweeper.tell(job, value)
