"""`mlws check` over 100 experiment files and `mlws diff --git` on a branch that changes a building
block all of them inherit, as whole processes (median of 3), each against `mlws check` of one
experiment measured in the same run (process start, imports, one composition).
Goals (issue "experiments reviewed in pull requests"): each under 10 s on this machine.
The review's guards (issue 23: the YAML bounds and refusals over every file, and the confinement of
every path Hydra opens) cost at most 10%: `mlws check` of all 100 with the guards against the same
command with them replaced by no-ops in this benchmark's process (nothing in mlws turns them off).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import MLWS, make_workspace

REPEATS = 3
N = 100
# the same CLI with the guards replaced by no-ops: the baseline for what they cost
UNGUARDED = [
    sys.executable,
    "-c",
    "import sys, mlws.review.check as c, mlws.review.sandbox as s; "
    "c.confine = lambda *a: None; s.refuse_unsafe = lambda root: []; "
    "from mlws.cli.main import main; sys.exit(main(sys.argv[1:]))",
]
GIT = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]


def timed(args, ws, env, command=MLWS) -> float:
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        done = subprocess.run([*command, *args], cwd=ws, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter() - start)
        assert done.returncode == 0, done.stderr.decode()[-500:]
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp) / "ws")
        for i in range(N - 12):  # siblings on top of the newest example: 100 experiment files in all
            (ws / "experiments" / f"sweep_{i:03d}.yaml").write_text(
                f"# @package _global_\ndefaults:\n  - model_12\n  - _self_\nmodel:\n  lr: {0.0001 * (i + 1):.4f}\n"
            )
        run = lambda *a: subprocess.run([*GIT, *a], cwd=ws, check=True, capture_output=True)
        run("init", "-q")
        run("add", "-A")
        run("commit", "-qm", "base")
        run("tag", "base")
        cnn = ws / "conf/model/net/cnn.yaml"
        cnn.write_text(cnn.read_text().replace("num_classes: 10", "num_classes: 12"))
        run("commit", "-qam", "change a building block")
        env = {**os.environ}
        one = timed(["check", "model_12"], ws, env)
        check = timed(["check"], ws, env)
        unguarded = timed(["check"], ws, env, command=UNGUARDED)
        diff = timed(["diff", "--git", "base", "--json"], ws, env)
    print(f"review benchmark, {N} experiment files, median of {REPEATS} whole processes")
    print(f"  mlws check model_12 (baseline)       {one:6.2f} s")
    print(
        f"  mlws check (all {N})                 {check:6.2f} s   ratio {check / one:5.1f}×  "
        f"goal < 10 s  {'OK' if check < 10 else 'MISSED'}"
    )
    print(
        f"  mlws check, guards as no-ops         {unguarded:6.2f} s   guards' cost: ratio {check / unguarded:5.2f}×  "
        f"goal ≤ 1.10  {'OK' if check / unguarded <= 1.10 else 'MISSED'}"
    )
    print(
        f"  mlws diff --git base (block in all)  {diff:6.2f} s   ratio {diff / one:5.1f}×  "
        f"goal < 10 s  {'OK' if diff < 10 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
