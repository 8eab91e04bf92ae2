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
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from .render import metric_text, param_text, short_time

    t = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False)
    t.add_column("id", no_wrap=True, justify="right")
    t.add_column("experiment", overflow="ellipsis", min_width=8)
    t.add_column("sweeper", overflow="ellipsis")
    t.add_column("status", no_wrap=True)
    t.add_column("trials")
    t.add_column("best", no_wrap=True)  # the key metric's value: never cut
    t.add_column("space", overflow="fold")
    t.add_column("created", no_wrap=True)
    for r in records:
        c = r["counts"]
        done = f"{c.get('succeeded', 0)}/{r['settings'].get('n_trials', '?')} ok"
        extra = ", ".join(f"{n} {s}" for s, n in sorted(c.items()) if s != "succeeded")
        best = f"{r['metric']}={metric_text(r['best']['value'])}\nrun {r['best']['run']}" if r["best"] else "-"
        t.add_row(
            str(r["id"]),
            escape(r["experiment"] or "-"),
            escape(r["sweeper"]),
            r["status"],
            done + (f", {extra}" if extra else ""),
            escape(best),
            escape("\n".join(f"{k}: {param_text(v)}" for k, v in r["space"].items())),
            short_time(r["created_at"]),
        )
    out = console()
    out.print(t)
    if limit is not None and len(records) == limit:
        total = api.count_sweeps()
        if total > limit:
            out.print(f"[dim]showing {limit} of {total} sweeps; --limit N or --all for more[/dim]")
    return 0
