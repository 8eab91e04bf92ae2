"""A guard that stops training when the run's spend reaches compute.max_cost.

The spend is the run's, not the process's: seconds already billed are kept in the run directory
(`spend.json`, on the bucket for a cloud run), so a spot recovery's new VM carries on counting; the
first process also counts the time since the launch (provisioning, setup). Under DDP every rank
stops at the same batch: the decision is shared (any rank over budget stops all).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .flavour import Hooks

LEDGER = "spend.json"
SAVE_EVERY_S = 10.0
SHARE_EVERY = 20  # batches between shared decisions on several ranks (a collective each time)


def cost_guards(spec, pl, *, hourly_price: float, launched_at: float | None = None) -> list:
    """What a backend that knows its price adds through `extend`: the guard for compute.max_cost, as
    a callback of the run's Lightning package. Without a limit it still keeps the spend ledger (the
    run's cost, mlws/spend/reckon.py), and never stops training."""
    limit = (spec.config.get("compute") or {}).get("max_cost")
    from .flavour import adopt

    guard = CostLimit(
        hourly_price=float(hourly_price),
        max_cost=float(limit) if limit else float("inf"),
        run_dir=spec.run_dir,
        launched_at=launched_at,
    )
    return [adopt(guard, pl, "cost")]


class CostLimit(Hooks):
    def __init__(
        self,
        hourly_price: float,
        max_cost: float,
        run_dir: str | os.PathLike | None = None,
        launched_at: float | None = None,
    ):
        self.hourly_price, self.max_cost = hourly_price, max_cost
        self.ledger = Path(run_dir) / LEDGER if run_dir else None
        self.started = time.time()
        self.kept = self._read_ledger()  # what earlier processes (VMs) of the run recorded
        self.earlier_s = self.kept.get("billed_seconds")
        if self.earlier_s is None:  # the run's first process: provisioning and setup were billed too
            self.earlier_s = max(0.0, self.started - launched_at) if launched_at else 0.0
        # One segment per process (per VM): its seconds (with the time before it started that no
        # segment holds: provisioning, setup, the gap after a preemption) at its own price.
        self.segments = [s for s in self.kept.get("segments") or [] if isinstance(s, dict)]
        self.before_s = sum(float(s.get("seconds") or 0) for s in self.segments)
        self.earlier_usd = (
            sum(float(s.get("seconds") or 0) * float(s.get("hourly_price") or 0) for s in self.segments) / 3600
        )
        self.saved_at = 0.0
        self.stop_reason: str | None = None

    def _read_ledger(self) -> dict:
        try:
            kept = json.loads(self.ledger.read_text())
            kept["billed_seconds"] = float(kept["billed_seconds"])
            return kept
        except (AttributeError, OSError, ValueError, KeyError, TypeError):
            return {}

    def billed_seconds(self) -> float:
        return self.earlier_s + (time.time() - self.started)

    def own_seconds(self) -> float:
        """This process's segment: every billed second that no earlier segment holds."""
        return max(self.billed_seconds() - self.before_s, 0.0)

    def spend(self) -> float:
        return self.earlier_usd + self.hourly_price * self.own_seconds() / 3600.0

    def _save(self, trainer) -> None:
        if self.ledger is not None and trainer.is_global_zero:
            from ..fileio import write_atomic

            own = {"seconds": round(self.own_seconds(), 1), "hourly_price": self.hourly_price, **_where()}
            write_atomic(
                self.ledger,
                json.dumps(
                    {
                        **self.kept,
                        "billed_seconds": round(self.billed_seconds(), 1),
                        "hourly_price": self.hourly_price,
                        "segments": [*self.segments, own],
                    }
                ),
            )
        self.saved_at = time.time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if time.time() - self.saved_at >= SAVE_EVERY_S:
            self._save(trainer)
        over = self.spend() >= self.max_cost
        if trainer.world_size > 1:
            if batch_idx % SHARE_EVERY:
                return
            over = trainer.strategy.reduce_boolean_decision(over, all=False)
        if over and not trainer.should_stop:
            self.stop_reason = f"cost limit ${self.max_cost:.2f} reached (at ${self.hourly_price:.2f}/hour)"
            trainer.should_stop = True

    def on_train_end(self, trainer, pl_module) -> None:
        self._save(trainer)


def _where() -> dict:
    """The cloud and region this VM runs in, as SkyPilot tells its nodes (SKYPILOT_CLUSTER_INFO)."""
    try:
        info = json.loads(os.environ.get("SKYPILOT_CLUSTER_INFO") or "{}")
    except ValueError:
        return {}
    return {k: info[k] for k in ("cloud", "region", "zone") if isinstance(info.get(k), str)}
