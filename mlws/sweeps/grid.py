"""The grid (Hydra's default sweeper, `basic`): every combination of the swept lists and ranges, in
Hydra's own expansion (BasicSweeper.split_arguments), all planned before anything is recorded. No
state of its own: a resume asks for the whole grid again and the driver skips what succeeded."""

from __future__ import annotations

from ..errors import MlwsError
from .sweeper import Job, Sweeper


class GridSweeper(Sweeper):
    name = "basic"

    def __init__(self, args, *, params: dict | None = None, max_batch_size: int | None = None):
        super().__init__(args, params=params)
        self.max_batch_size = max_batch_size
        self._jobs = _expand(self.params, list(args.task))
        self._next = 0

    def jobs_to_check(self) -> list[list[str]]:
        return [list(job) for job in self._jobs]

    @property
    def n_trials(self) -> int:
        return len(self._jobs)

    def record(self) -> dict:
        return {"sampler": "grid"}

    def ask(self, slots: int) -> list[Job]:
        # no feedback: the whole grid at once (the driver runs `slots` at a time), unless Hydra's
        # max_batch_size asks for smaller batches
        size = self.max_batch_size or len(self._jobs)
        batch = self._jobs[self._next : self._next + size]
        self._next += len(batch)
        return [Job(tuple(job)) for job in batch]

    def done(self) -> bool:
        return self._next >= len(self._jobs)


def _expand(params: dict, overrides: list[str]) -> list[list[str]]:
    """The jobs Hydra's basic sweeper would ask for, in its order."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    args = [f"{k}={v}" for k, v in params.items()] + overrides
    try:
        parsed = OverridesParser.create().parse_overrides(args)
        return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
    except HydraException as e:
        message = str(e).strip().splitlines()[0]
        if "does not support sweep type" in message:
            message = (
                "the basic (grid) sweeper takes lists and ranges; interval(...) needs a sampling sweeper: "
                "add hydra/sweeper=optuna (or hydra/sweeper=mlws_random)"
            )
        raise MlwsError(message) from None
