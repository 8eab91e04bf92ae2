"""Overhead of hardware tracking and media views on training throughput.

`mlws train +experiment=model_12` with everything off (no hardware sampling, no media views)
against everything on at the default interval (hardware every 2 s; confusion matrix, worst
samples and class metrics every validation), alternating ROUNDS times; medians compared.
Training steps/s (time in validation, where media views render, excluded) is the goal's measure
(<= 3% slower); the figures including validation and the wall times are printed too.
"""

import os
import statistics
import tempfile
from pathlib import Path

from benchlib import make_workspace, offline_env, train_timed

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
OFF = ["monitor.hardware_interval_s=0", "callbacks=[default]"]
HARDWARE = ["callbacks=[default]"]  # hardware sampling at the default interval, no media views
ON = ["callbacks=[default,confusion_matrix,worst_samples,class_metrics]"]


def train(ws: Path, env: dict, extra: list[str]) -> dict:
    _, wall, _, timing = train_timed(ws, env, ["+experiment=model_12", *extra])
    return {
        "wall": wall,
        "steps_per_sec": timing["train_steps_per_sec"],
        "overall_steps_per_sec": timing["steps_per_sec"],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ws, env = make_workspace(tmp / "ws"), offline_env(tmp)
        results = {"off": [], "hardware": [], "on": []}
        for _ in range(ROUNDS):
            results["off"].append(train(ws, env, OFF))
            results["hardware"].append(train(ws, env, HARDWARE))
            results["on"].append(train(ws, env, ON))
    med = {k: {m: statistics.median(r[m] for r in rs) for m in rs[0]} for k, rs in results.items()}
    print(f"monitoring benchmark: model_12, median of {ROUNDS} alternating rounds")
    for name in ("off", "hardware", "on"):
        print(
            f"  {name:8} training steps/s {med[name]['steps_per_sec']:8.1f}   "
            f"steps/s incl. validation+media {med[name]['overall_steps_per_sec']:8.1f}   wall {med[name]['wall']:6.2f} s"
        )
    hw = med["hardware"]["steps_per_sec"] / med["off"]["steps_per_sec"]
    print(
        f"training steps/s ratio hardware-only/off: {hw:.3f} -> overhead {100 * (1 - hw):+.1f}% (goal <= 3%)  "
        f"{'OK' if hw >= 0.97 else 'MISSED'}"
    )
    ratio = med["on"]["steps_per_sec"] / med["off"]["steps_per_sec"]
    print(
        f"training steps/s ratio hardware+media/off: {ratio:.3f} -> overhead {100 * (1 - ratio):+.1f}% (goal <= 3%)  "
        f"{'OK' if ratio >= 0.97 else 'MISSED'}"
    )
    overall = med["on"]["overall_steps_per_sec"] / med["off"]["overall_steps_per_sec"]
    print(f"steps/s ratio including validation and media rendering: {overall:.3f}")
    print(f"wall-time ratio on/off: {med['on']['wall'] / med['off']['wall']:.3f} (includes rendering media)")


if __name__ == "__main__":
    main()
