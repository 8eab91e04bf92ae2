"""`mlws ablate` of the synthetic example's step (synth_base → synth_four: four changed keys, 10
configurations) with 3 seeds: wall time with --parallel 2 against the same ablation one run at a time
(--parallel 1), each in a fresh workspace where only the parent and the run are recorded already
(28 trainings each). Also whether the learning rate got >= 80% of the gain.

    .venv/bin/python bench/bench_ablate.py [--seeds 3]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import MLWS, make_workspace, offline_env


def ablate(parallel: int, seeds: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp) / "ws")
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from mlws.examples.synthetic import install

        install(ws)
        env = offline_env(Path(tmp))
        for experiment in ("synth_base", "synth_four"):
            subprocess.run(
                [*MLWS, "train", f"+experiment={experiment}"],
                cwd=ws,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        start = time.perf_counter()
        out = subprocess.run(
            [*MLWS, "ablate", "2", "--seeds", str(seeds), "--parallel", str(parallel), "--json"],
            cwd=ws,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return time.perf_counter() - start, json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    for parallel in (1, 2):
        wall, result = ablate(parallel, args.seeds)
        share = result["effects"]["model.lr"]["share"]
        print(
            f"--parallel {parallel}: {wall:.0f} s for {result['trained']} trainings "
            f"({result['reused']} reused); model.lr share {share['estimate']:.0%} [{share['low']}, {share['high']}]"
        )


if __name__ == "__main__":
    main()
