"""`mlws train +experiment=model_12` against a plain Lightning script (bench/plain_lightning.py).

Both run as fresh processes, alternating, ROUNDS times; the median of each is compared. A third
variant, mlws with `safe_weights=false`, measures what writing safetensors next to each checkpoint costs.
Start-up is measured from launching the command to the first training step.
Goal: steps/s ratio >= 0.95 and start-up at most 2 s more than the plain script.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO, make_workspace, offline_env, train_timed

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def run_mlws(ws: Path, env: dict, extra=()) -> dict:
    start, wall, last, t = train_timed(ws, env, ["+experiment=model_12", *extra])
    return {
        "wall": wall,
        "startup": t["first_step_at"] - start,
        "steps": t["steps"],
        "steps_per_sec": t["steps_per_sec"],
        "val/acc": last["metrics"]["val/acc"],
    }


def run_plain(tmp: Path, env: dict, i: int) -> dict:
    out, run_dir = tmp / f"plain{i}.json", tmp / f"plain{i}"
    start = time.time()
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "plain_lightning.py"), str(out), str(run_dir)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.time() - start
    t = json.loads(out.read_text())
    return {
        "wall": wall,
        "startup": t["first_step_at"] - start,
        "steps": t["steps"],
        "steps_per_sec": t["steps_per_sec"],
        "val/acc": t["val/acc"],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ws, env = make_workspace(tmp / "ws"), offline_env(tmp)
        results = {"mlws": [], "plain": [], "no-safe": []}
        for i in range(ROUNDS):
            results["plain"].append(run_plain(tmp, env, i))
            results["mlws"].append(run_mlws(ws, env))
            results["no-safe"].append(run_mlws(ws, env, ["safe_weights=false"]))
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in results.items()}
    assert med["mlws"]["steps"] == med["plain"]["steps"], "both must train the same number of steps"
    print(f"train benchmark: model_12, {int(med['mlws']['steps'])} steps, median of {ROUNDS} alternating rounds")
    print(f"{'':8}{'wall s':>9}{'startup s':>11}{'steps/s':>10}{'val/acc':>9}")
    for name in ("plain", "mlws", "no-safe"):
        m = med[name]
        print(f"{name:8}{m['wall']:9.2f}{m['startup']:11.2f}{m['steps_per_sec']:10.1f}{m['val/acc']:9.4f}")
    ratio = med["mlws"]["steps_per_sec"] / med["plain"]["steps_per_sec"]
    extra = med["mlws"]["startup"] - med["plain"]["startup"]
    print(f"steps/s ratio mlws/plain: {ratio:.3f} (goal >= 0.95)  {'OK' if ratio >= 0.95 else 'MISSED'}")
    print(f"start-up overhead: {extra:+.2f} s (goal < 2 s)  {'OK' if extra < 2 else 'MISSED'}")
    print(f"wall-time ratio mlws/plain: {med['mlws']['wall'] / med['plain']['wall']:.3f}")
    safe = med["mlws"]["steps_per_sec"] / med["no-safe"]["steps_per_sec"]
    print(
        f"steps/s with safetensors weights at each checkpoint / without (safe_weights=false): {safe:.3f} "
        f"(goal: no measurable slowdown, >= 0.97)  {'OK' if safe >= 0.97 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
