"""Overhead of hardware tracking and media views on training throughput.

`mlws train +experiment=model_12` with everything off (no hardware sampling, no media views)
against everything on at the default interval (hardware every 2 s; confusion matrix, worst
samples and class metrics every validation), alternating ROUNDS times; medians compared.
Training steps/s (time in validation excluded) is the goal's measure (<= 3% slower); the media
views draw in a background process while training goes on, so their cost shows there (and the
wait for the last drawings at the end of fit, in the wall time). Each OVERHEAD line is one ratio
against a baseline measured in this same run. The figures including validation and the wall times
are printed too. BENCH_ROUNDS sets the rounds (3); BENCH_EPOCHS shortens the runs (model_12's 25
epochs); BENCH_BASELINE_SRC=DIR (a copy of another commit's source, e.g. `git archive REV mlws |
tar -x -C DIR`) adds, in each round, the "on" run with that code, so two versions of the media views
are compared on the same machine load.
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
EPOCHS = [f"trainer.max_epochs={os.environ['BENCH_EPOCHS']}"] if os.environ.get("BENCH_EPOCHS") else []
BASELINE_SRC = os.environ.get("BENCH_BASELINE_SRC")


def train(ws: Path, env: dict, extra: list[str]) -> dict:
    _, wall, _, timing = train_timed(ws, env, ["+experiment=model_12", *EPOCHS, *extra])
    return {
        "wall": wall,
        "steps_per_sec": timing["train_steps_per_sec"],
        "overall_steps_per_sec": timing["steps_per_sec"],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ws, env = make_workspace(tmp / "ws"), offline_env(tmp)
        configs = {"off": (env, OFF), "hardware": (env, HARDWARE), "on": (env, ON)}
        if BASELINE_SRC:
            configs["on_baseline"] = ({**env, "PYTHONPATH": BASELINE_SRC}, ON)
        results: dict[str, list] = {name: [] for name in configs}
        names = list(configs)
        for i in range(ROUNDS):  # each round starts one later: no config always runs first or last
            for name in names[i % len(names) :] + names[: i % len(names)]:
                results[name].append(train(ws, *configs[name]))
    med = {k: {m: statistics.median(r[m] for r in rs) for m in rs[0]} for k, rs in results.items()}
    print(f"monitoring benchmark: model_12 {' '.join(EPOCHS)}, median of {ROUNDS} alternating rounds")
    for name in results:
        print(
            f"  {name:11} training steps/s {med[name]['steps_per_sec']:8.1f}   "
            f"steps/s incl. validation+media {med[name]['overall_steps_per_sec']:8.1f}   wall {med[name]['wall']:6.2f} s"
        )
    report("hardware-only/off", results["hardware"], results["off"])
    report("hardware+media/off", results["on"], results["off"])
    report("media alone (hardware+media/hardware-only)", results["on"], results["hardware"])
    if BASELINE_SRC:
        report(f"hardware+media/off with the code in {BASELINE_SRC}", results["on_baseline"], results["off"])
        report("media alone with that code", results["on_baseline"], results["hardware"])
        print(f"  on_baseline wall {med['on_baseline']['wall']:.2f} s vs on {med['on']['wall']:.2f} s")
    overall = med["on"]["overall_steps_per_sec"] / med["off"]["overall_steps_per_sec"]
    print(f"steps/s ratio including validation and media rendering: {overall:.3f}")
    print(f"wall-time ratio on/off: {med['on']['wall'] / med['off']['wall']:.3f} (includes rendering media)")


def report(label: str, runs: list[dict], baselines: list[dict]) -> None:
    """The ratio of medians, and the median of each round's own ratio (rounds alternate, so a
    round's runs share the machine's load of the moment)."""
    ratio = statistics.median(r["steps_per_sec"] for r in runs) / statistics.median(
        b["steps_per_sec"] for b in baselines
    )
    per_round = [r["steps_per_sec"] / b["steps_per_sec"] for r, b in zip(runs, baselines)]
    print(
        f"OVERHEAD {label}: training steps/s ratio {ratio:.3f} -> {100 * (1 - ratio):+.1f}% "
        f"(median of per-round ratios {statistics.median(per_round):.3f}: "
        f"{', '.join(f'{x:.3f}' for x in per_round)}) goal <= 3%  {'OK' if ratio >= 0.97 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
