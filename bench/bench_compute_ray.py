"""compute=ray against compute=local on this machine, measured in the same run.

1. Submit to first step: `mlws train +experiment=model_12` from the command's start to the first
   training step, on a Ray head already running here (upload, job start, worker start-up) vs local.
2. Training speed: a 2-worker Ray Train DDP run vs one local process, the same experiment, in
   samples per second (steps/s × batch size × workers).
Rounds alternate; medians are compared. The head is started once, before timing, and stopped after.
"""

import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchlib import MLWS, make_workspace, offline_env, train_timed

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
EXPERIMENT = ["+experiment=model_12", "logger=none"]


def timed(ws: Path, env: dict, overrides: list[str], workers: int = 1) -> dict:
    start, wall, record, t = train_timed(ws, env, EXPERIMENT + overrides)
    batch = json.loads(
        subprocess.run(
            [*MLWS, "show", str(record["id"]), "--json"], cwd=ws, env=env, check=True, capture_output=True, text=True
        ).stdout
    )["config"]["data"]["batch_size"]
    return {
        "wall": wall,
        "to_first_step": t["first_step_at"] - start,
        "steps_per_sec": t["train_steps_per_sec"],
        "samples_per_sec": t["train_steps_per_sec"] * batch * workers,
        "val/acc": record["metrics"]["val/acc"],
    }


def main() -> None:
    from mlws.compute.ray.head import start_head, stop_head

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ws, env = make_workspace(tmp / "ws"), offline_env(tmp)
        env.pop("RAY_ADDRESS", None)
        head = start_head(tmp / "head.json", num_cpus=4, env=env)
        ray = ["compute=ray", f"compute.address={head['address']}"]
        try:
            results = {"local": [], "ray": [], "ray 2 workers": []}
            for _ in range(ROUNDS):
                results["local"].append(timed(ws, env, []))
                results["ray"].append(timed(ws, env, ray))
                results["ray 2 workers"].append(timed(ws, env, ray + ["compute.num_workers=2"], workers=2))
        finally:
            stop_head(head)
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in results.items()}
    print(
        f"compute=ray benchmark: model_12 (logger=none), median of {ROUNDS} alternating rounds, {os.cpu_count()} cores"
    )
    print(f"{'':15}{'wall s':>9}{'to 1st step s':>15}{'steps/s':>10}{'samples/s':>11}{'val/acc':>9}")
    for name, m in med.items():
        print(
            f"{name:15}{m['wall']:9.2f}{m['to_first_step']:15.2f}{m['steps_per_sec']:10.1f}"
            f"{m['samples_per_sec']:11.0f}{m['val/acc']:9.4f}"
        )
    print(
        f"submit-to-first-step: ray {med['ray']['to_first_step']:.2f} s vs local {med['local']['to_first_step']:.2f} s "
        f"(+{med['ray']['to_first_step'] - med['local']['to_first_step']:.2f} s)"
    )
    print(
        f"2-worker Ray Train / 1 local process, samples/s: "
        f"{med['ray 2 workers']['samples_per_sec'] / med['local']['samples_per_sec']:.2f}"
    )


if __name__ == "__main__":
    main()
