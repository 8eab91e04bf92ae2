"""Plain-words warnings about a run: idle GPU, input-bound steps, no improvement, stalled."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    gpu_low_percent: float = 30.0
    gpu_low_minutes: float = 5.0
    data_wait_fraction: float = 0.5
    patience: int = 5  # evaluations without a better watched metric (the run's loss, else its key metric)
    stall_minutes: float = 5.0


def alerts(
    status: str,
    evaluations: list[dict],
    hardware: list[dict],
    last_update: float | None,
    now: float,
    t: Thresholds,
    watched: tuple[str, str] | None = None,
) -> list[str]:
    """`watched`: (metric, mode) whose lack of improvement is reported (from the run's monitor config)."""
    out: list[str] = []
    if status == "running":
        out += _gpu_idle(hardware, now, t) + _input_bound(hardware, t)
        if last_update is not None and now - last_update > t.stall_minutes * 60:
            out.append(f"no new metrics for {(now - last_update) / 60:.0f} minutes — stalled?")
    if watched:
        out += _no_improvement(evaluations, t, *watched)
    return out


def _gpu_idle(hardware: list[dict], now: float, t: Thresholds) -> list[str]:
    window = [h for h in hardware if h.get("time", 0) >= now - t.gpu_low_minutes * 60]
    if not window or now - hardware[0].get("time", now) < t.gpu_low_minutes * 60:
        return []  # not enough history yet
    out = []
    indices = sorted({k for h in window for k in h if k.startswith("gpu") and k.endswith("_util_percent")})
    for key in indices:
        values = [h[key] for h in window if key in h]
        if values and max(values) < t.gpu_low_percent:
            out.append(
                f"GPU {key[3:].split('_')[0]} utilisation under {t.gpu_low_percent:.0f}% for "
                f"{t.gpu_low_minutes:.0f} minutes — input pipeline bound?"
            )
    return out


def _input_bound(hardware: list[dict], t: Thresholds) -> list[str]:
    recent = [h["data_wait_fraction"] for h in hardware[-5:] if "data_wait_fraction" in h]
    if len(recent) >= 3 and min(recent) > t.data_wait_fraction:
        return [
            f"{100 * sum(recent) / len(recent):.0f}% of each step is spent waiting for data — "
            "input pipeline bound? (more data.num_workers?)"
        ]
    return []


def _no_improvement(evaluations: list[dict], t: Thresholds, metric: str, mode: str) -> list[str]:
    values = [e[metric] for e in evaluations if isinstance(e.get(metric), (int, float))]
    if len(values) <= t.patience:
        return []
    pick = min if mode == "min" else max
    best_at = pick(range(len(values)), key=values.__getitem__)
    since = len(values) - 1 - best_at
    if since >= t.patience:
        return [f"{metric} has not improved for {since} evaluations (best {values[best_at]:.4f})"]
    return []
