"""mlws sweeps [--json]"""
from __future__ import annotations

from .render import console, print_json


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api
    records = api.sweeps()
    if args.json:
        print_json(records)
        return 0
    if not records:
        console().print("no sweeps yet: mlws train -m +experiment=model_12 model.lr=1e-3,3e-4")
        return 0
    from rich.table import Table
    t = Table("id", "experiment", "sweeper", "status", "trials", "best", "space", "created")
    for r in records:
        c = r["counts"]
        done = f"{c.get('succeeded', 0)}/{r['settings'].get('n_trials', '?')} ok"
        extra = ", ".join(f"{n} {s}" for s, n in sorted(c.items()) if s != "succeeded")
        best = f"{r['metric']}={r['best']['value']:.4f} (run {r['best']['run']})" if r["best"] else "-"
        t.add_row(str(r["id"]), r["experiment"] or "-", r["sweeper"], r["status"], done + (f", {extra}" if extra else ""),
                  best, " ".join(f"{k}={v}" for k, v in r["space"].items()), r["created_at"].replace("T", " ")[:19])
    console().print(t)
    return 0
