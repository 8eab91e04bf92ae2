"""Issue 16's numbers: shell completion's answer time, and `mlws train` start-up when mlws's
building blocks come from the package (pkg://mlws.conf, this repository's layout) against a
workspace that holds a copy of every block in its own conf/ (nothing from the package).

Completion: median of 9 `mlws __complete` calls, against `mlws --help` (the interpreter floor);
goal < 0.3 s. Start-up: command to first training step, 3 alternating rounds, medians."""

import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import MLWS, REPO, make_workspace, offline_env, train_timed

ROUNDS = 3


def wall(cwd: Path, args: list[str]) -> float:
    samples = []
    for _ in range(9):
        start = time.perf_counter()
        subprocess.run([*MLWS, *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = offline_env(tmp)
        packaged = make_workspace(tmp / "packaged")
        copied = make_workspace(tmp / "copied")
        for block in (REPO / "mlws" / "conf").iterdir():
            if block.is_dir() and not block.name.startswith("_"):
                shutil.copytree(block, copied / "conf" / block.name, dirs_exist_ok=True)
        floor = wall(packaged, ["--help"])
        lines = {
            "a command": ["__complete", "1", "mlws", "tr"],
            "a config key": ["__complete", "2", "mlws", "train", "model.l"],
            "a group's options": ["__complete", "2", "mlws", "train", "compute="],
        }
        print("completion: median wall seconds of one TAB (a fresh process)")
        print(f"  mlws --help (floor)          {floor:.3f}")
        for name, args in lines.items():
            t = wall(packaged, args)
            print(f"  {name:28} {t:.3f}   goal < 0.3 s: {'OK' if t < 0.3 else 'MISSED'}")
        starts = {"packaged blocks": [], "blocks copied into conf/": []}
        for _ in range(ROUNDS):
            for name, ws in (("packaged blocks", packaged), ("blocks copied into conf/", copied)):
                start, _, _, timing = train_timed(
                    ws, env, ["+experiment=model_12", "trainer.max_epochs=1", "logger=none"]
                )
                starts[name].append(timing["first_step_at"] - start)
        a, b = (statistics.median(v) for v in starts.values())
        print("mlws train +experiment=model_12 start-up (command to first step), median of 3")
        print(f"  packaged blocks (this repository)   {a:.2f} s")
        print(f"  every block in the workspace conf/  {b:.2f} s")
        print(f"  ratio {a / b:.2f} (goal: no slower)")


if __name__ == "__main__":
    main()
