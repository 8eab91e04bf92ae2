"""The run's own key metrics must be logged: checked right after Lightning's sanity validation (or
the first validation when there is none), so a `monitor.metric` the module never logs stops the run
in seconds with one line, instead of a whole epoch later inside Lightning's ModelCheckpoint."""

from __future__ import annotations

from ..errors import MlwsError
from .flavour import Hooks


def unlogged(monitor: dict, logged: set[str]) -> str | None:
    """Pure: why the run cannot go on (a monitored key its module does not log), or None."""
    for key in ("metric", "loss"):
        name = monitor.get(key)
        if name and name not in logged:
            shown = ", ".join(sorted(logged)) or "nothing during validation"
            hint = f"monitor.{key}=NAME" + (" (or monitor.loss=null: the run has none)" if key == "loss" else "")
            return (
                f"monitor.{key} is {name!r}, but the model logs {shown}: set {hint} in the config "
                "(conf/config.yaml or the experiment)"
            )
    return None


class MonitoredMetrics(Hooks):
    def __init__(self, monitor: dict):
        self.monitor = dict(monitor or {})
        self.checked = False

    def on_sanity_check_end(self, trainer, pl_module) -> None:
        self._check(trainer)

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:  # no sanity validation ran (num_sanity_val_steps=0)
            self._check(trainer)

    def _check(self, trainer) -> None:
        if self.checked:
            return
        self.checked = True
        problem = unlogged(self.monitor, set(trainer.callback_metrics))
        if problem:
            raise MlwsError(problem)
