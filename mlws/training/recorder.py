"""Writes each validation's metrics and the run's timing into the run directory."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..fileio import write_atomic
from .flavour import Hooks


def scalar_metrics(metrics: dict) -> dict:
    out = {}
    for key, value in metrics.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


class RunRecorder(Hooks):
    """metrics.jsonl (one line per validation), timing.json, and a last checkpoint when stopped."""

    PROGRESS_EVERY_S = 1.0

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self.first_step_at: float | None = None
        self.fit_start_at: float | None = None
        self._progress_at = 0.0
        self._val_started: float | None = None
        self.batches_seen = 0  # on this rank: with DDP each rank sees its own share
        self.validation_s = 0.0  # time inside validation (and its media views), not training
        # one entry per finished training epoch: its steps, training seconds and validation seconds,
        # so a benchmark can compare epochs inside one run (the same process and machine load)
        self.epochs: list[dict] = []
        self._epoch_start: tuple[float, float, int] | None = None  # (time, validation_s, global_step)

    def on_fit_start(self, trainer, pl_module) -> None:
        self.fit_start_at = time.time()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.first_step_at is None:
            self.first_step_at = time.time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.batches_seen += 1
        now = time.time()
        if now - self._progress_at >= self.PROGRESS_EVERY_S and trainer.is_global_zero:
            self._progress_at = now
            self.write_progress(trainer, now)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._epoch_start = (time.time(), self.validation_s, trainer.global_step)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        # Lightning (2.x) calls this after the epoch's own validation: that time is taken out
        if self._epoch_start is None:
            return
        started, validation_before, step_before = self._epoch_start
        self._epoch_start = None
        validation_s = self.validation_s - validation_before
        self.epochs.append(
            {
                "epoch": trainer.current_epoch,
                "steps": trainer.global_step - step_before,
                "train_s": time.time() - started - validation_s,
                "validation_s": validation_s,
            }
        )

    def write_progress(self, trainer, now: float) -> None:
        """progress.json: where training is, for `mlws watch` (replaced atomically)."""
        elapsed = max(now - (self.first_step_at or now), 1e-9)
        progress = {
            "time": now,
            "step": trainer.global_step,
            "epoch": trainer.current_epoch,
            "total_steps": _total_steps(trainer),
            "steps_per_sec": trainer.global_step / elapsed,
            "metrics": scalar_metrics(trainer.callback_metrics),
        }
        write_atomic(self.run_dir / "progress.json", json.dumps(progress))

    def on_validation_start(self, trainer, pl_module) -> None:
        self._val_started = time.time()

    def on_validation_end(self, trainer, pl_module) -> None:
        if self._val_started is not None and self.first_step_at is not None:
            self.validation_s += time.time() - self._val_started
        # after Lightning has aggregated this validation's metrics (not so at epoch end)
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        line = {
            "time": time.time(),
            "epoch": trainer.current_epoch,
            "step": trainer.global_step,
            **scalar_metrics(trainer.callback_metrics),
        }
        with (self.run_dir / "metrics.jsonl").open("a") as f:
            f.write(json.dumps(line) + "\n")

    def on_train_end(self, trainer, pl_module) -> None:
        ranks = self.run_dir / "ranks"
        ranks.mkdir(exist_ok=True)
        (ranks / f"rank{trainer.global_rank}.json").write_text(
            json.dumps(
                {
                    "global_rank": trainer.global_rank,
                    "world_size": trainer.world_size,
                    "node_rank": trainer.node_rank,
                    "batches_seen": self.batches_seen,
                    "backend": str(getattr(trainer.strategy, "process_group_backend", None)),
                }
            )
        )
        self.write_timing(trainer)
        if trainer.is_global_zero:
            self.write_progress(trainer, time.time())

    def on_exception(self, trainer, pl_module, exception) -> None:
        if isinstance(exception, KeyboardInterrupt) and trainer.global_step > 0:
            # A stopped run keeps its progress: save where it got to.
            trainer.save_checkpoint(self.run_dir / "checkpoints" / "last.ckpt")
        self.write_timing(trainer)

    def write_timing(self, trainer) -> None:
        if not trainer.is_global_zero or self.first_step_at is None:
            return
        end = time.time()
        steps = trainer.global_step
        timing = {
            "fit_start_at": self.fit_start_at,
            "first_step_at": self.first_step_at,
            "end_at": end,
            "steps": steps,
            "steps_per_sec": steps / max(end - self.first_step_at, 1e-9),
            "validation_s": self.validation_s,
            "train_steps_per_sec": steps / max(end - self.first_step_at - self.validation_s, 1e-9),
            "epochs": self.epochs,
        }
        (self.run_dir / "timing.json").write_text(json.dumps(timing, indent=2))


def _total_steps(trainer) -> int | None:
    try:
        total = trainer.estimated_stepping_batches
    except Exception:  # unknown length (iterable datasets)
        return None
    return int(total) if total != float("inf") else None
