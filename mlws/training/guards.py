"""A guard that stops training when the run's spend reaches compute.max_cost."""
from __future__ import annotations

import time

from .flavour import Hooks


class CostLimit(Hooks):
    def __init__(self, hourly_price: float, max_cost: float):
        self.hourly_price, self.max_cost = hourly_price, max_cost
        self.started = time.time()
        self.stop_reason: str | None = None

    def spend(self) -> float:
        return self.hourly_price * (time.time() - self.started) / 3600.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.spend() >= self.max_cost and not trainer.should_stop:
            self.stop_reason = f"cost limit ${self.max_cost:.2f} reached (at ${self.hourly_price:.2f}/hour)"
            trainer.should_stop = True
