"""mlws cost [--by experiment|label|month|backend] [--json]: what the runs cost, from the registry alone."""

from __future__ import annotations

from .render import console, print_json

GROUPINGS = ("experiment", "label", "month", "backend")


def add_arguments(p) -> None:
    p.add_argument("--by", choices=GROUPINGS, help="a total per experiment, label, month (of its start) or backend")
    p.add_argument("--json", action="store_true")


def dollars(text: str) -> float:
    """An argparse type (--budget): a positive amount of dollars."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount of dollars, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive amount of dollars, got {text}")
    return value


def run(args) -> int:
    from mlws import api

    result = api.cost_totals(args.by)
    if args.json:
        print_json(result)
        return 0
    console().print(table(result) if result["total"]["runs"] else "no runs yet: mlws train +experiment=model_12")
    return 0


def table(result: dict):
    """One row per group (or the total alone), then the total; unpriced runs show their hours."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    t = Table(
        box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False, show_footer=bool(result["by"])
    )
    total = result["total"]
    t.add_column(result["by"] or "", footer="total")  # without --by: one row, `all`
    for name, key in (("cost", "usd"), ("time", "hours"), ("runs", "runs"), ("priced", "priced")):
        t.add_column(name, justify="right", no_wrap=True, footer=_cell(total, key))
    for group in result["groups"] or [{"key": "all", **total}]:
        t.add_row(escape(str(group["key"])), *(_cell(group, k) for k in ("usd", "hours", "runs", "priced")))
    return t


def _cell(group: dict, key: str) -> str:
    from mlws.spend.reckon import duration, money

    if key == "usd":
        return money(group["usd"])
    if key == "hours":
        return duration(group["hours"])
    return str(group[key])
