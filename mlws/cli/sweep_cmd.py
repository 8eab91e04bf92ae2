"""mlws sweep ID [--json | --format markdown] [--resume [--parallel N] [--force] [--detach]]"""

from __future__ import annotations

import contextlib
import shlex
import sys

from .render import console, print_json


def add_arguments(p) -> None:
    p.add_argument("sweep_id", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--format", choices=["table", "markdown"], default="table", help="markdown: a pull-request comment")
    p.add_argument("--resume", action="store_true", help="run the trials still missing (failed, stopped, never run)")
    p.add_argument("--parallel", type=int, metavar="N", help="with --resume: trials at a time (default: as before)")
    p.add_argument("--max-failures", type=int, metavar="K")
    p.add_argument("--force", action="store_true", help="with --resume: even though its search space changed")
    p.add_argument("--detach", action="store_true", help="with --resume: drive the sweep in the background")
    p.add_argument(
        "--stop", action="store_true", help="stop a sweep driven in the background (a --seeds group too) and its trials"
    )
    from .cost_cmd import dollars

    p.add_argument("--budget", type=dollars, metavar="USD", help="with --resume: a new budget for the whole sweep")


def run(args) -> int:
    from mlws import api

    if args.budget is not None and not args.resume:
        from mlws.errors import MlwsError

        raise MlwsError(
            f"--budget changes a sweep's budget as it resumes: mlws sweep {args.sweep_id} --resume --budget USD"
        )
    if args.stop and (args.resume or args.detach):
        from mlws.errors import MlwsError

        raise MlwsError("--stop ends a sweep: not with --resume or --detach")
    if args.stop:
        from mlws.ops.session import session
        from mlws.sweeps.stopping import stop_sweep

        s = session()
        record = stop_sweep(s.registry, s.workspace.root, args.sweep_id)
        print(f"sweep {record['id']} {record['status']}", file=sys.stderr)
        show(api.sweep_view(args.sweep_id), as_json=args.json, markdown=args.format == "markdown")
        return 0  # it stopped, as asked (show's code says whether every trial succeeded)
    if args.resume:
        with _progress_to_stderr(args.json or args.format == "markdown"):
            result = api.resume_sweep(
                args.sweep_id,
                parallel=args.parallel,
                max_failures=args.max_failures,
                force=args.force,
                detach=args.detach,
                budget=args.budget,
            )
    else:
        result = api.sweep_view(args.sweep_id)
    return show(result, as_json=args.json, markdown=args.format == "markdown")


def run_sweep(args) -> int:
    """`mlws train -m ...`"""
    from mlws import api

    command = shlex.join(
        ["mlws", "train", "-m", *args.overrides]
        + (["--parallel", str(args.parallel)] if args.parallel != 1 else [])
        + (["--budget", f"{args.budget:g}"] if args.budget is not None else [])
    )
    with _progress_to_stderr(args.json):
        result = api.sweep(
            args.overrides,
            parallel=args.parallel,
            max_failures=args.max_failures,
            resume=args.resume,
            force=args.force,
            detach=args.detach,
            command=command,
            labels=args.label,
            note=args.note,
            budget=args.budget,
        )
    return show(result, as_json=args.json)


@contextlib.contextmanager
def _progress_to_stderr(active: bool):
    with contextlib.redirect_stdout(sys.stderr) if active else contextlib.nullcontext():
        yield


def show(result: dict, *, as_json: bool = False, markdown: bool = False) -> int:
    sweep = result["sweep"]
    if as_json:
        print_json(result)
    elif markdown:
        from mlws.sweeps.ranking import markdown as to_markdown

        sys.stdout.write(to_markdown(sweep, result["varied"], result["trials"]))
        from mlws.sweeps.seed_groups import lines as seed_lines

        found = seed_lines(result.get("seed_groups"))
        found = [line.replace("`", "'") for line in found]  # values inside a fence stay text
        sys.stdout.write("\n" + "\n".join(["```text", *found, "```"]) + "\n" if found else "")
    else:
        _table(result)
    if result.get("message"):
        print(result["message"], file=sys.stderr)
    # A finished sweep with a trial that never succeeded exits 1 too (CI sees it); the table says which.
    return 0 if sweep["status"] == "running" or (sweep["status"] == "finished" and not result["unsucceeded"]) else 1


def _table(result: dict) -> None:
    from rich.table import Table

    sweep, keys = result["sweep"], result["varied"]
    metric = sweep["metric"] or "value"
    title = (
        f"sweep {sweep['id']} · {sweep['experiment'] or '(no experiment)'} · {sweep['sweeper']} · {sweep['status']}"
        f" · {metric} ({sweep['mode']} is better)"
    )
    from rich import box
    from rich.markup import escape

    from .render import metric_text, param_text

    t = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False)
    for name in ("rank", "trial", "run"):
        t.add_column(name, no_wrap=True, justify="right")
    t.add_column("status", no_wrap=True)
    t.add_column(escape(metric), no_wrap=True, justify="right")  # the objective's value: never cut
    priced = any((r.get("cost") or {}).get("usd") is not None for r in result["trials"])
    if priced:  # each trial's cost, when a price is known (mlws/spend/reckon.py)
        t.add_column("cost", no_wrap=True, justify="right")
    for k in keys:  # values to 4 significant digits (an Optuna draw is 0.0007197…); --json keeps them whole
        t.add_column(escape(k), overflow="fold")
    colours = {"succeeded": "green", "failed": "red", "running": "yellow", "stopped": "magenta"}
    for r in result["trials"]:
        t.add_row(
            str(r["rank"] or "-"),
            str(r["trial"]),
            str(r["run"]),
            f"[{colours.get(r['status'], 'white')}]{r['status']}[/]",
            metric_text(r["value"]),
            *([_money(r.get("cost"))] if priced else []),
            *(escape(param_text(r["params"][k])) for k in keys),
        )
    out = console()
    out.print(title, style="bold", highlight=False, markup=False)  # a line of its own: a title is as wide as its table
    out.print(t if result["trials"] else f"sweep {sweep['id']} has no trials yet")
    from mlws.sweeps.seed_groups import lines as seed_lines

    for line in seed_lines(result.get("seed_groups")):  # trials that differ only in seed, as groups
        out.print(line, highlight=False, markup=False, soft_wrap=True)
    if result.get("cost") and result["cost"]["runs"]:
        from mlws.spend.reckon import duration

        total = result["cost"]
        out.print(
            f"cost: {_money(total)} over {total['runs']} run{'s' if total['runs'] != 1 else ''} "
            f"({duration(total['hours'])})" + _budget_text(sweep),
            highlight=False,
            markup=False,
        )
    if sweep.get("error"):
        out.print(f"[red]{sweep['error']}[/]")


def _money(cost: dict | None) -> str:
    from mlws.spend.reckon import money

    return "-" if not cost else money(cost.get("usd"), cost.get("hours"))


def _budget_text(sweep: dict) -> str:
    settings = sweep.get("settings") or {}
    budget = settings.get("budget")
    text = f" of a ${budget:g} budget" if budget else ""
    return text + ("; " + settings["budget_reached"] if settings.get("budget_reached") else "")
