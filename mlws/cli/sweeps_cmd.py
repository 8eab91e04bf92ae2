"""mlws sweeps [--limit N | --all] [--json]"""
from __future__ import annotations

from .render import console, print_json

DEFAULT_TABLE_LIMIT = 50


def add_arguments(p) -> None:
    p.add_argument("--limit", type=int, help=f"the newest N sweeps (the table shows {DEFAULT_TABLE_LIMIT} by default)")
    p.add_argument("--all", action="store_true", help="the table shows every sweep")
    p.add_argument("--json", action="store_true", help="a JSON array (every sweep unless --limit)")


def run(args) -> int:
    from mlws import api
    limit = args.limit if args.limit is not None else None if (args.json or args.all) else DEFAULT_TABLE_LIMIT
    records = api.list_sweeps(limit=limit)
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
    out = console()
    out.print(t)
    if limit is not None and len(records) == limit:
        total = api.count_sweeps()
        if total > limit:
            out.print(f"[dim]showing {limit} of {total} sweeps; --limit N or --all for more[/dim]")
    return 0
