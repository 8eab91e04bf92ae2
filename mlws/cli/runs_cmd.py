"""mlws runs [--label L] [--experiment E] [--status S] [--search TEXT] [--where 'val/acc>0.9'] [--sort M] [--limit N] [--json]"""

from __future__ import annotations

from .render import console, print_json

DEFAULT_TABLE_LIMIT = 50


def add_arguments(p) -> None:
    p.add_argument("--label")
    p.add_argument("--experiment")
    from mlws.registry import STATUSES

    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--search", help="free text over notes, labels, experiment names and config values")
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COND",
        help="metric threshold, e.g. 'val/acc>=0.95' (repeatable)",
    )
    p.add_argument("--sort", metavar="METRIC", help="sort by a metric, highest first")
    p.add_argument("--asc", action="store_true", help="with --sort: lowest first")
    p.add_argument(
        "--limit", type=int, help=f"at most N runs (the table shows the newest {DEFAULT_TABLE_LIMIT} by default)"
    )
    p.add_argument("--all", action="store_true", help="the table shows every run")
    p.add_argument("--json", action="store_true", help="a JSON array of runs")
    p.add_argument(
        "--refresh",
        action="store_true",
        help="first ask the backends of running remote runs (a Ray cluster, a cloud) for their status",
    )


def run(args) -> int:
    from mlws import api

    limit = args.limit
    if limit is None and not args.json and not args.all:
        limit = DEFAULT_TABLE_LIMIT
    warnings = api.refresh() if args.refresh else []
    filters = dict(label=args.label, experiment=args.experiment, status=args.status, search=args.search)
    records = api.search_runs(**filters, where=args.where, sort=args.sort, ascending=args.asc, limit=limit)
    total = len(records)
    if limit is not None and len(records) == limit and not args.where and not args.sort:
        total = api.count_runs(**filters)
    import sys

    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print_json(records)
        return 0
    from mlws.keymetric import shown_metrics

    t = table(records, keys_of=(lambda r: (args.sort,)) if args.sort else shown_metrics)
    out = console()
    filtered = any([args.label, args.experiment, args.status, args.search, args.where])
    out.print(t if records else "no runs match" if filtered else "no runs yet: mlws train +experiment=model_12")
    from .replicates_render import group_line

    for group in api.replicate_groups(records):  # runs that differ only in seed: mean ± sd [95% CI]
        out.print(group_line(group), highlight=False, markup=False, soft_wrap=True)
    if not args.refresh and _any_reported_by_a_backend(api, records):
        out.print("[dim]runs on a cluster or cloud show their last known status; --refresh asks their backends[/dim]")
    if total > len(records):
        out.print(f"[dim]showing {len(records)} of {total} runs; --limit N or --all for more[/dim]")
    return 0


def _any_reported_by_a_backend(api, records: list[dict]) -> bool:
    """A running run no process of this machine owns (pid NULL): its backend knows its status."""
    return any(api.show(r["id"])["pid"] is None for r in records if r["status"] == "running")


def table(records: list[dict], keys_of):
    """The runs at any width: the key metric's value (and the loss) never cut; at 80 columns the
    date is short and labels and overrides wrap or give way with an ellipsis first."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from .render import metric_columns, short_time

    headers, cells = metric_columns(records, keys_of)
    t = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False)
    t.add_column("id", no_wrap=True, justify="right")
    t.add_column("experiment", overflow="ellipsis", min_width=8)
    t.add_column("status", no_wrap=True)
    for header in headers:  # the key metric: rich never shortens a no_wrap column to fit
        t.add_column(header, no_wrap=True, justify="right" if header != "metrics" else "left")
    priced = any((r.get("cost") or {}).get("usd") is not None for r in records)
    if priced:  # a cost column only when some run has a price (mlws/spend/reckon.py)
        t.add_column("cost", no_wrap=True, justify="right")
    t.add_column("labels", overflow="ellipsis")
    t.add_column("overrides", overflow="ellipsis")
    t.add_column("created", min_width=5)  # "12-07 14:18", or at its space on two lines when narrow
    colours = {"succeeded": "green", "failed": "red", "running": "yellow", "stopped": "magenta"}
    for r, metric_cells in zip(records, cells):
        status = f"[{colours.get(r['status'], 'white')}]{r['status']}[/]"
        extra = r["overrides"][1:] if r["overrides"][:1] == [f"+experiment={r['experiment']}"] else r["overrides"]
        spent = [_cost_cell(r.get("cost"))] if priced else []
        t.add_row(
            str(r["id"]),
            escape(r["experiment"] or "-"),
            status,
            *(escape(c) for c in metric_cells),
            *spent,
            escape(", ".join(r["labels"])),
            escape("\n".join(extra)),
            short_time(r["created_at"]),
        )
    return t


def _cost_cell(cost: dict | None) -> str:
    """$1.23 (a cloud run: its hourly price under it); `-` for a run without a price."""
    from mlws.spend.reckon import money

    if not cost or cost.get("usd") is None:
        return "-"
    hourly = f"\n@ ${cost['hourly_price']:.2f}/h" if cost.get("hourly_price") else ""
    return money(cost["usd"]) + ("" if cost.get("final", True) else "\nso far") + hourly
