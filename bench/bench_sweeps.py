"""A local sweep of 8 short model_12 trials: `--parallel 2` against the same 8 one after another,
and the per-trial overhead of a sweep over a plain `mlws train` of the same config.

Every variant runs in its own fresh workspace (nothing is skipped as already done), in this order:
plain train, serial sweep, parallel sweep. Goal: parallel ≤ 0.65× the serial time on this 2-core
machine; the overhead is (serial sweep / 8) − one plain train."""

import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import MLWS, make_workspace, offline_env

TRIAL = ["+experiment=model_12", "trainer.max_epochs=2", "logger=none"]
SWEEP = ["model.lr=1e-3,2e-3,3e-3,5e-3", "data.batch_size=32,64"]  # 8 trials


def wall(ws: Path, env: dict, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([*MLWS, *args], cwd=ws, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = offline_env(tmp)
        fresh = lambda name: make_workspace(tmp / name)
        plain = [
            wall(fresh(f"plain{i}"), env, ["train", *TRIAL, "model.lr=2e-3", "data.batch_size=64"]) for i in range(2)
        ]
        serial = wall(fresh("serial"), env, ["train", "-m", *TRIAL, *SWEEP])
        parallel = wall(fresh("parallel"), env, ["train", "-m", *TRIAL, *SWEEP, "--parallel", "2"])
    one = min(plain)
    print("sweep benchmark: 8 trials of model_12 (2 epochs each), wall seconds")
    print(f"  plain mlws train (one trial, best of 2) {one:8.2f}")
    print(f"  sweep, one at a time                    {serial:8.2f}   {serial / 8:.2f} s per trial")
    print(f"  sweep, --parallel 2                     {parallel:8.2f}")
    ratio = parallel / serial
    print(f"  parallel / serial: {ratio:.2f}x  (goal <= 0.65x: {'OK' if ratio <= 0.65 else 'MISSED'})")
    print(f"  per-trial overhead of a sweep over a plain train: {serial / 8 - one:+.2f} s")


if __name__ == "__main__":
    main()
