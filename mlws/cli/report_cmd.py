"""mlws report [-o PATH] [--metric M] [--runs 3,5,12] [--sweep ID]"""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="where to write the page (default: runs/report.html, or runs/sweep-ID.html with --sweep, "
        "in the workspace: runs/ is git-ignored, so the page stays out of commits)",
    )
    p.add_argument(
        "--metric", help="the key metric (default: the runs' own monitor.metric); the lineage leads to its best run"
    )
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
    output = args.output or default_output(args.sweep)
    path = api.report(output, metric=args.metric, runs_for_curves=ids, sweep=args.sweep)
    print(f"report written ({path.stat().st_size // 1024} KiB, opens offline):")
    print(f"  {path.resolve()}")  # whole on its own line, to copy
    return 0


def default_output(sweep: int | None):
    """The workspace's runs/ folder: ignored by git (mlws init adds it to .gitignore)."""
    from mlws.workspace import find_workspace

    folder = find_workspace().runs_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder / ("report.html" if sweep is None else f"sweep-{sweep}.html")
