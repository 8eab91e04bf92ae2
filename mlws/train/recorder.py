"""Writes each validation's metrics and the run's timing into the run directory."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytorch_lightning as pl


def scalar_metrics(metrics: dict) -> dict:
    out = {}
    for key, value in metrics.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


class RunRecorder(pl.Callback):
    """metrics.jsonl (one line per validation), timing.json, and a last checkpoint when stopped."""

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self.first_step_at: float | None = None
        self.fit_start_at: float | None = None

    def on_fit_start(self, trainer, pl_module) -> None:
        self.fit_start_at = time.time()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.first_step_at is None:
            self.first_step_at = time.time()

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        line = {"time": time.time(), "epoch": trainer.current_epoch, "step": trainer.global_step,
                **scalar_metrics(trainer.callback_metrics)}
        with (self.run_dir / "metrics.jsonl").open("a") as f:
            f.write(json.dumps(line) + "\n")

    def on_train_end(self, trainer, pl_module) -> None:
        self.write_timing(trainer)

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
        timing = {"fit_start_at": self.fit_start_at, "first_step_at": self.first_step_at, "end_at": end,
                  "steps": steps, "steps_per_sec": steps / max(end - self.first_step_at, 1e-9)}
        (self.run_dir / "timing.json").write_text(json.dumps(timing, indent=2))
