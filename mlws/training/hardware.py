"""Samples CPU, memory and (through NVML) GPU use in a thread; logs them from the training loop."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from .flavour import Hooks


def _nvml():
    """pynvml handles for visible GPUs, or None when there is no NVIDIA driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml, [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception:  # no library, no driver, no GPU: all mean "no GPU metrics"
        return None


def sample(process, nvml) -> dict:
    import psutil

    mem = psutil.virtual_memory()
    out = {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "process_cpu_percent": process.cpu_percent(interval=None),
        "memory_mb": process.memory_info().rss / 2**20,
        "system_memory_percent": mem.percent,
    }
    if nvml:
        pynvml, handles = nvml
        for i, h in enumerate(handles):
            util = pynvml.nvmlDeviceGetUtilizationRates(h)
            info = pynvml.nvmlDeviceGetMemoryInfo(h)
            out[f"gpu{i}_util_percent"] = float(util.gpu)
            out[f"gpu{i}_memory_mb"] = info.used / 2**20
            out[f"gpu{i}_memory_percent"] = 100.0 * info.used / info.total
            try:
                out[f"gpu{i}_power_w"] = pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0
                out[f"gpu{i}_temp_c"] = float(pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU))
            except pynvml.NVMLError:
                pass
    return out


class HardwareMonitor(Hooks):
    """Every `interval_s`: a line in hardware.jsonl, and `hw/*` metrics to the loggers at the next step."""

    def __init__(self, run_dir: str | os.PathLike, interval_s: float = 2.0):
        self.path = Path(run_dir) / "hardware.jsonl"
        self.interval_s = interval_s
        self._latest: dict | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._step = 0
        # step timing, filled by the training loop and drained by each sample
        self._batch_start = self._last_batch_end = None
        self._wait_s = self._compute_s = 0.0
        self._steps_since = 0

    def _loop(self) -> None:
        import psutil

        process, nvml = psutil.Process(), _nvml()
        process.cpu_percent(interval=None)  # the first reading is always 0: prime it
        psutil.cpu_percent(interval=None)
        with self.path.open("a") as f:
            stopping = False
            while not stopping:
                # A last sample when training ends, so even a run shorter than one interval has one.
                stopping = self._stop.wait(self.interval_s)
                s = sample(process, nvml)
                s.update(self._drain_step_timing())
                f.write(json.dumps({"time": time.time(), "step": self._step, **s}) + "\n")
                f.flush()
                self._latest = s

    def on_fit_start(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            self._thread = threading.Thread(target=self._loop, name="mlws-hardware", daemon=True)
            self._thread.start()

    def _drain_step_timing(self) -> dict:
        wait, compute, steps = self._wait_s, self._compute_s, self._steps_since
        self._wait_s = self._compute_s = 0.0
        self._steps_since = 0
        if not steps:
            return {}
        return {
            "data_wait_fraction": wait / max(wait + compute, 1e-9),
            "step_time_ms": 1000.0 * (wait + compute) / steps,
        }

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        # Time since the previous step ended is spent waiting for this batch (data loading).
        self._batch_start = time.perf_counter()
        if self._last_batch_end is not None:
            self._wait_s += self._batch_start - self._last_batch_end

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._last_batch_end = None  # the gap between epochs is validation, not data wait

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._last_batch_end = time.perf_counter()
        if self._batch_start is not None:
            self._compute_s += self._last_batch_end - self._batch_start
            self._steps_since += 1
        self._step = trainer.global_step
        self._log_latest(trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        # The last sample (taken as the thread stops) reaches the loggers too: a run shorter than one
        # interval would otherwise log no hardware use at all.
        self.stop()
        self._log_latest(trainer)

    def _log_latest(self, trainer) -> None:
        latest, self._latest = self._latest, None
        if latest:
            for logger in trainer.loggers:
                logger.log_metrics({f"hw/{k}": v for k, v in latest.items()}, step=trainer.global_step)

    def on_fit_end(self, trainer, pl_module) -> None:
        self.stop()

    def on_exception(self, trainer, pl_module, exception) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.interval_s + 5)
