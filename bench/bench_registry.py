"""Registry queries with 100, 10,000 and 100,000 synthetic runs: wall time of whole CLI commands.

Runs are synthetic (real model_01..12 configs with varied learning rates, random metrics, labels,
notes and parent links; every run after the first 50 belongs to a sweep of 20 trials), bulk-inserted.
Each command is timed as a fresh process, median of 3.
Goals: at 10,000 runs, runs, runs --search, diff, lineage under 0.3 s and report under 10 s; at
100,000 runs, each query at most 2x its own time at 100 runs. The report (a page with every run)
is not timed at 100,000.
"""

import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import make_workspace

SIZES = (100, 10_000, 100_000)
SWEEP_SIZE = 20
REPEATS = 3


def populate(ws: Path, n: int) -> None:
    from mlws import api
    from mlws.registry import open_registry
    from mlws.workspace import Workspace

    rng = random.Random(0)
    configs = {f"model_{i:02d}": api.plan([f"+experiment=model_{i:02d}"], workspace=ws).config for i in range(1, 13)}
    open_registry(Workspace(ws).registry_url)  # creates the schema
    rows, last_of = [], {}
    for run_id in range(1, n + 1):
        k = (run_id - 1) % 12 + 1
        exp = f"model_{k:02d}"
        config = json.loads(json.dumps(configs[exp]))
        config["model"]["lr"] = round(config["model"]["lr"] * rng.choice([0.5, 1, 1, 2]), 6)
        parent = last_of.get(f"model_{k - 1:02d}") if k > 1 else None
        last_of[exp] = run_id
        metrics = {"val/acc": rng.uniform(0.4 + 0.05 * k, 0.45 + 0.05 * k), "val/loss": rng.uniform(0.01, 2)}
        labels = ["best"] if run_id % 97 == 0 else []
        note = "tried dropout and a wider net" if run_id % 50 == 0 else ""
        sweep = (run_id - 51) // SWEEP_SIZE + 1 if run_id > 50 else None
        rows.append(
            (
                run_id,
                exp,
                json.dumps([f"+experiment={exp}", f"model.lr={config['model']['lr']}"]),
                json.dumps(config),
                "mlws train",
                json.dumps({"commit": "a" * 40, "dirty": False}),
                "",
                json.dumps({"torch": "2.13.0"}),
                "local",
                "succeeded",
                "2026-11-01T00:00:00+00:00",
                json.dumps(metrics),
                "{}",
                str(ws / "runs" / str(run_id)),
                json.dumps(labels),
                note,
                parent,
                f"model_{k - 1:02d}" if k > 1 else None,
                sweep,
                f"key{run_id}" if sweep else None,
                (run_id - 51) % SWEEP_SIZE + 1 if sweep else None,
                *(
                    str(config["monitor"].get(k)) if config["monitor"].get(k) is not None else None
                    for k in ("metric", "mode", "loss")
                ),
            )
        )
    db = sqlite3.connect(ws / ".mlws" / "registry.db")
    db.executemany(
        "INSERT INTO runs (id, experiment, overrides, config, command, git, git_patch, versions, backend,"
        " status, created_at, metrics, artifacts, run_dir, labels, note, parent_id, builds_on, sweep_id,"
        " trial_key, trial_index, monitor_metric, monitor_mode, monitor_loss)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    sweeps = sorted({r[18] for r in rows if r[18]})
    db.executemany(
        "INSERT INTO sweeps (id, created_at, status, command, overrides, space, sweeper, settings,"
        " experiment, metric, mode, signature) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                i,
                "2026-11-01T00:00:00+00:00",
                "finished",
                "mlws train -m",
                "[]",
                '{"model.lr": "1,2"}',
                "basic",
                json.dumps({"n_trials": SWEEP_SIZE}),
                None,
                "val/acc",
                "max",
                f"sig{i}",
            )
            for i in sweeps
        ],
    )
    db.commit()
    db.close()


def timed(ws: Path, args: list[str]) -> float:
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mlws.cli.main", *args],
            cwd=ws,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            ws = Path(tmp) / f"ws{n}"
            make_workspace(ws)
            populate(ws, n)
            commands = {
                "mlws --help": ["--help"],
                "mlws runs": ["runs"],
                "mlws runs --search dropout": ["runs", "--search", "dropout"],
                "mlws runs --label best --sort val/acc": ["runs", "--label", "best", "--sort", "val/acc"],
                "mlws runs --where val/acc>0.99 --sort val/acc": [
                    "runs",
                    "--where",
                    "val/acc>0.99",
                    "--sort",
                    "val/acc",
                ],
                "mlws diff (last two runs)": ["diff", str(n - 1), str(n)],
                "mlws lineage (last run)": ["lineage", str(n)],
                "mlws lineage --best val/acc": ["lineage", "--best", "val/acc"],
                "mlws sweep ID (the last sweep)": ["sweep", str((n - 51) // SWEEP_SIZE + 1)],
                "mlws sweeps": ["sweeps"],
                "mlws report": ["report", "-o", str(Path(tmp) / f"report{n}.html")],
            }
            if n >= 100_000:
                del commands["mlws report"]
            results[n] = {name: timed(ws, args) for name, args in commands.items()}
    names = list(results[SIZES[0]])
    print(f"registry benchmark: CLI wall seconds, median of {REPEATS} (mlws --help is the start-up floor)")
    print(f"{'command':48}{'100 runs':>10}{'10,000':>9}{'100,000':>9}{'x@100k':>8}  goals")
    for name in names:
        small, mid, big = (results[n].get(name) for n in SIZES)
        goal = 10.0 if name == "mlws report" else 0.3 if name != "mlws --help" else None
        verdict = "" if goal is None else f"10k < {goal:g} s {'OK' if mid < goal else 'MISSED'}"
        if big is not None and name != "mlws --help":
            verdict += f"; 100k <= 2x: {'OK' if big <= 2 * small else 'MISSED'}"
        big_text = f"{big:9.3f}{big / small:8.2f}" if big is not None else f"{'-':>9}{'-':>8}"
        print(f"{name:48}{small:10.3f}{mid:9.3f}{big_text}  {verdict}")


if __name__ == "__main__":
    main()
