"""Issue 27's claim for the synthetic example: `mlws ablate` gives the one key that matters (the
learning rate) >= 80% of the gain in at least 9 of 10 seeds *of the whole procedure*. Each
procedure, in a fresh workspace, with base seed S: `mlws train +experiment=synth_base seed=S`, the
same for synth_four, then `mlws ablate RUN --seeds K` (seeds S..S+K-1); all through the real CLI
and real Lightning training. Prints each procedure's share with its interval and the count.

`--in-process`: the same procedure without a process per training (on a loaded machine the CLI's
~30 s of start-up per training made 10 procedures take an hour): `mlws ablate`'s own step_changes
and plan_configs choose and plan the configurations, each trained by mlws's own builder.fit (the
worker's training) in this process, and mlws.stats.ablation reports. What it leaves out is the
registry, the reuse of runs, and the sweep that runs them.

    .venv/bin/python bench/bench_ablate_procedure.py [--procedures 10] [--seeds 3] [--parallel 2] [--in-process]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import MLWS, make_workspace, offline_env

KEY = "model.lr"


def procedure(base_seed: int, seeds: int, parallel: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp) / "ws")
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from mlws.examples.synthetic import install

        install(ws)
        env = offline_env(Path(tmp))
        ids = []
        for experiment in ("synth_base", "synth_four"):
            out = subprocess.run(
                [*MLWS, "train", f"+experiment={experiment}", f"seed={base_seed}", "--json"],
                cwd=ws,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            ids.append(json.loads(out.stdout)["id"])
        out = subprocess.run(
            [*MLWS, "ablate", str(ids[1]), "--seeds", str(seeds), "--parallel", str(parallel), "--json"],
            cwd=ws,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout)


def procedure_in_process(base_seed: int, seeds: int, tmp: Path, ws: Path) -> dict:
    from mlws.ops.ablate import plan_configs, step_changes
    from mlws.planning import plan
    from mlws.stats.ablation import ablation
    from mlws.training.builder import fit
    from mlws.workspace import Workspace

    w = Workspace(ws)
    records = {}
    for name in ("synth_base", "synth_four"):
        overrides = [f"+experiment={name}"]
        records[name] = {"overrides": overrides, "config": plan(w, [*overrides, f"seed={base_seed}"])[0].config}
    changes = step_changes(records["synth_base"]["config"], records["synth_four"]["config"])
    seed_list = [base_seed + i for i in range(seeds)]
    configs = plan_configs(w, records["synth_base"], records["synth_four"], changes, seed_list)
    values = {}
    for i, c in enumerate(configs):
        xs = []
        for seed in seed_list:
            spec = plan(w, [*c["overrides"], f"seed={seed}"])[0]
            run_dir = tmp / f"run-{base_seed}-{i}-{seed}"
            run_dir.mkdir(parents=True)
            xs.append(float(fit(spec.with_run(0, str(run_dir))).metrics["val/score"]))
        for key in [c["key"], *c.get("aliases", [])]:
            values[key] = xs
    return ablation(values, [c["change"] for c in changes])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--procedures", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    if args.in_process:
        import contextlib
        import os

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from mlws.examples.synthetic import install

        tmp = Path(tempfile.mkdtemp(prefix="bench-ablate-"))
        ws = make_workspace(tmp / "ws")
        install(ws)
        os.chdir(ws)
    hits = 0
    start = time.perf_counter()
    for i in range(args.procedures):
        base = 1000 * (i + 1)  # seed ranges never overlap
        t0 = time.perf_counter()
        if args.in_process:
            with contextlib.redirect_stdout(sys.stderr):
                result = procedure_in_process(base, args.seeds, tmp, ws)
        else:
            result = procedure(base, args.seeds, args.parallel)
        share = result["effects"][KEY]["share"]
        others = {k: e["share"]["estimate"] for k, e in result["effects"].items() if k != KEY}
        hit = share["estimate"] >= 0.8
        hits += hit
        low = "-" if share["low"] is None else f"{share['low']:.0%}"
        high = "-" if share["high"] is None else f"{share['high']:.0%}"
        print(
            f"procedure {i + 1} (seeds {base}..{base + args.seeds - 1}): {KEY} share {share['estimate']:.0%} "
            f"[{low}, {high}] {'>= 80%' if hit else '< 80%'}; gain {result['gain']['estimate']:+.3f}; others "
            + ", ".join(f"{k} {v:.0%}" for k, v in others.items())
            + f" ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    print(
        f"{KEY} got >= 80% of the gain in {hits} of {args.procedures} procedures "
        f"(--seeds {args.seeds}, {'in process' if args.in_process else f'--parallel {args.parallel}'}; "
        f"{time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
