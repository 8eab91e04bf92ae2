"""mlws runs [--json]"""
from __future__ import annotations

from .render import console, format_metrics, print_json


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="a JSON array of runs")


def run(args) -> int:
    from mlws import api
    records = api.runs()
    if args.json:
        print_json(records)
        return 0
    from rich.table import Table
    t = Table("id", "experiment", "status", "metrics", "overrides", "created")
    colours = {"succeeded": "green", "failed": "red", "running": "yellow", "stopped": "magenta"}
    for r in records:
        status = f"[{colours.get(r['status'], 'white')}]{r['status']}[/]"
        t.add_row(str(r["id"]), r["experiment"] or "-", status, format_metrics(r["metrics"]),
                  " ".join(r["overrides"][1:] if r["overrides"][:1] == [f"+experiment={r['experiment']}"] else r["overrides"]),
                  r["created_at"].replace("T", " ")[:19])
    console().print(t if records else "no runs yet: mlws train +experiment=model_12")
    return 0
