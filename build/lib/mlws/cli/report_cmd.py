"""mlws report -o report.html [--metric M] [--runs 3,5,12]"""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", default="report.html")
    p.add_argument("--metric", help="the key metric (default: the runs' own monitor.metric); the lineage leads to its best run")
    p.add_argument("--runs", help="comma-separated run ids whose training curves to overlay (default: the lineage)")
    p.add_argument("--sweep", type=int, metavar="ID", help="a page for one sweep: its trials in parallel coordinates")


def run(args) -> int:
    from mlws import api
    from mlws.errors import MlwsError
    ids = None
    if args.runs:
        try:
            ids = [int(x) for x in args.runs.split(",") if x.strip()]
        except ValueError:
            raise MlwsError(f"--runs takes run ids separated by commas, got {args.runs!r}") from None
    path = api.report(args.output, metric=args.metric, runs_for_curves=ids, sweep=args.sweep)
    print(f"report written: {path.resolve()} ({path.stat().st_size // 1024} KiB, opens offline)")
    return 0
