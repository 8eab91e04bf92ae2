"""What recording the data a run saw costs (issue 28), each against a baseline measured in this run:

- digits: the example data module's fingerprint() against its setup() (loading the arrays the run
  trains on), median of 5, in this process after the imports;
- a synthetic folder of 10,000 files of 4 KiB: the first fingerprint (every file hashed) and a cached
  one (size and mtime match: no file read) against reading every file once, median of 3;
- deterministic mode (what `mlws rerun --exact` turns on) on training steps/s: the same tiny digits
  run with MLWS_EXACT=1 against without, as whole `mlws train` processes (timing.json), median of 3.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import MLWS, make_workspace, offline_env

FILES, SIZE = 10_000, 4096
TRAIN = [
    "+experiment=model_12",
    "trainer.max_epochs=3",
    "trainer.limit_val_batches=1",
    "logger=none",
    "monitor.hardware_interval_s=0",
]


def median_time(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def digits() -> None:
    from mlws.examples.digits import DigitsDataModule

    module = DigitsDataModule()
    module.fingerprint()  # imports (scikit-learn's loader) outside the timing
    setup = median_time(lambda: (setattr(module, "train_set", None), module.setup()), 5)
    fingerprint = median_time(module.fingerprint, 5)
    print(
        f"digits: fingerprint() {fingerprint * 1000:.1f} ms, setup() {setup * 1000:.1f} ms "
        f"(x{fingerprint / setup:.2f} of loading the data)"
    )


def folder(tmp: Path) -> None:
    from mlws.training.fingerprint import files_fingerprint

    data = tmp / "data"
    for i in range(FILES):
        sub = data / f"{i // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:05d}.bin").write_bytes(os.urandom(SIZE))

    def read_all():
        for path in sorted(data.rglob("*.bin")):
            path.read_bytes()

    baseline = median_time(read_all, 3)
    cache = tmp / "fingerprints.json"

    def first():
        cache.unlink(missing_ok=True)
        return files_fingerprint({"data.data_dir": str(data)}, tmp, cache_path=cache)

    cold = median_time(first, 3)
    warm = median_time(lambda: files_fingerprint({"data.data_dir": str(data)}, tmp, cache_path=cache), 3)
    result = files_fingerprint({"data.data_dir": str(data)}, tmp, cache_path=cache)
    assert result["files"] == FILES and result["hashed"] == 0, result
    print(
        f"{FILES:,} files of {SIZE // 1024} KiB: first {cold:.2f} s (x{cold / baseline:.2f} of reading them once, "
        f"{baseline:.2f} s), cached {warm:.2f} s (x{warm / baseline:.2f}; no file read)"
    )


def steps_per_sec(ws: Path, env: dict) -> float:
    subprocess.run(
        [*MLWS, "train", *TRAIN], cwd=ws, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    runs = json.loads(
        subprocess.run([*MLWS, "runs", "--json"], cwd=ws, env=env, check=True, capture_output=True, text=True).stdout
    )
    return json.loads((Path(runs[-1]["run_dir"]) / "timing.json").read_text())["train_steps_per_sec"]


def deterministic(tmp: Path) -> None:
    ws = make_workspace(tmp / "ws")
    env = offline_env(tmp)
    plain, exact = [], []
    for _ in range(3):  # interleaved: the machine's load touches both alike
        plain.append(steps_per_sec(ws, env))
        exact.append(steps_per_sec(ws, {**env, "MLWS_EXACT": "1"}))
    p, e = statistics.median(plain), statistics.median(exact)
    print(f"deterministic mode: {e:.1f} train steps/s against {p:.1f} without (x{e / p:.2f})")


def main() -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        digits()
        folder(Path(tmp))
        deterministic(Path(tmp))


if __name__ == "__main__":
    main()
