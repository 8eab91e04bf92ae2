"""mlws train [overrides ...] [--detach];  mlws train -m [overrides with sweeps ...] [--parallel N] [--resume]"""

from __future__ import annotations

import contextlib
import shlex
import sys

from mlws.keymetric import shown_metrics

from .render import console, format_metrics, print_json

EXIT_CODES = (
    "exit codes: 0 the run succeeded, was started (--detach) or stopped by one of its guards "
    "(time limit, early stopping); 1 it failed; 2 bad input, nothing run; 130 stopped by Ctrl-C "
    "(SIGINT); 143 stopped by SIGTERM (mlws stop N, kill). A stopped run keeps its metrics and "
    "best checkpoint."
)


def add_arguments(p) -> None:
    p.epilog = EXIT_CODES
    p.add_argument(
        "overrides", nargs="*", help="Hydra overrides: +experiment=NAME, key=value, +key=value, ~key, group=option"
    )
    p.add_argument("--detach", action="store_true", help="run in the background and return the run id at once")
    p.add_argument("--json", action="store_true", help="print the run record as JSON")
    p.add_argument("--label", action="append", default=[], help="label the run (repeatable)")
    p.add_argument("--note", default="", help="a note for the run")
    p.add_argument(
        "--seeds",
        type=_at_least(1),
        metavar="K",
        help="K runs differing only in seed (from the config's seed up), recorded as one replicate group: "
        "its metric as mean ± sd with a 95%% confidence interval (--parallel N runs N at a time)",
    )
    sweep = p.add_argument_group("sweeps (-m)")
    sweep.add_argument(
        "-m",
        "--multirun",
        action="store_true",
        help="a sweep: model.lr=1e-3,3e-4 (grid), or hydra/sweeper=optuna 'model.lr=interval(1e-4,1e-2)'; "
        "every trial is a recorded run",
    )
    sweep.add_argument("--parallel", type=_at_least(1), default=1, metavar="N", help="trials at a time (default 1)")
    sweep.add_argument(
        "--max-failures",
        type=_at_least(0),
        metavar="K",
        help="end the sweep once more than K trials failed (default: never)",
    )
    sweep.add_argument(
        "--resume",
        action="store_true",
        help="continue the earlier sweep of these overrides: only missing or failed trials run",
    )
    sweep.add_argument("--force", action="store_true", help="with --resume: even though its search space changed")
    from .cost_cmd import dollars

    sweep.add_argument(
        "--budget",
        type=dollars,
        metavar="USD",
        help="launch a trial only while the sweep's spend plus its expected cost stays within USD "
        "(held across --resume)",
    )


def _at_least(minimum: int):
    """An argparse type: a whole number >= minimum."""

    def parse(text: str) -> int:
        import argparse

        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def run(args) -> int:
    from mlws import api

    if args.seeds is not None:
        from .seeds_render import run_seeds

        return run_seeds(args)
    if args.multirun:
        from .sweep_cmd import run_sweep

        return run_sweep(args)
    if args.resume or args.force or args.parallel != 1 or args.max_failures is not None or args.budget is not None:
        from mlws.errors import MlwsError

        raise MlwsError("--parallel, --max-failures, --budget, --resume and --force are for sweeps: add -m")
    command = shlex.join(["mlws", "train", *args.overrides] + (["--detach"] if args.detach else []))
    record = run_foreground(
        lambda: api.train(args.overrides, detach=args.detach, command=command, labels=args.label, note=args.note),
        quiet_stdout=args.json,
    )
    if isinstance(record, int):
        return record
    if args.json:
        print_json(api.summary(record) | {"artifacts": record.get("artifacts")})
    elif args.detach:
        print(f"run {record['id']} {record['message']}; follow with: mlws logs {record['id']} --follow")
    else:
        _closing_summary(record)
    return exit_code(record)


def run_foreground(start, *, quiet_stdout: bool = False):
    """The run's record, or the exit code when it failed or was interrupted before it was recorded.
    Ctrl-C and SIGTERM stop the run gracefully (it is recorded with its metrics and checkpoints);
    `exit_code(record)` then gives 130 or 143, as shells expect."""
    from mlws.errors import RunFailed
    from mlws.worker import stop_signal, stopping_on_signals

    try:
        # With --json, stdout carries only the JSON; training's own output goes to stderr.
        with (
            stopping_on_signals(),
            contextlib.redirect_stdout(sys.stderr) if quiet_stdout else contextlib.nullcontext(),
        ):
            return start()
    except RunFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:  # before the run was recorded, or while a backend launched it
        print("interrupted", file=sys.stderr)
        return 128 + (stop_signal() or 2)


def exit_code(record: dict) -> int:
    from mlws.worker import exit_code as of_record

    return of_record(record)


def _closing_summary(record: dict) -> None:
    """The run's facts in a small table, then each path and command whole on its own line (an
    80-column terminal soft-wraps them; copying gives them back in one piece)."""
    from pathlib import Path

    from rich.table import Table
    from rich.text import Text

    from .render import print_whole, weights_of

    artifacts = record.get("artifacts") or {}
    ckpts = artifacts.get("checkpoints") or {}
    t = Table(
        title=f"run {record['id']} · {record['experiment'] or '(no experiment)'} · {record['status']}",
        show_header=False,
        title_justify="left",
    )
    t.add_column(style="bold", no_wrap=True)
    t.add_column()
    t.add_row("metrics", format_metrics(record.get("metrics"), shown_metrics(record)))
    if record.get("stop_reason"):
        t.add_row("stopped", record["stop_reason"])
    if record.get("rerun_of") is not None:
        t.add_row("rerun of", f"run {record['rerun_of']}")
    out = console()
    out.print(t)
    paths: list[tuple[str, list[str]]] = [("run dir", [record["run_dir"]])]
    weights = weights_of(record)
    for name, path in weights:
        paths.append(
            (
                f"{name} weights (safetensors: what mlws serve and mlws.load_run load)"
                if name == "best" or len(weights) == 1
                else f"{name} weights",
                [path],
            )
        )
    resume = [ckpts[name] for name in ("best", "last") if isinstance(ckpts.get(name), str)]
    if resume:
        paths.append(("checkpoints (Lightning .ckpt, for resuming)" if weights else "checkpoints (best, last)", resume))
    if artifacts.get("media"):  # the media callbacks' images (confusion matrix, worst samples, ...)
        folders = artifacts["media"]
        paths.append((f"media ({', '.join(folders)})", [f"{Path(next(iter(folders.values()))).parent}/"]))
    if artifacts.get("log"):  # the libraries' notices and warnings, kept off the terminal
        n = artifacts.get("warnings") or 0
        paths.append(("log", [artifacts["log"] + (f" ({n} warning{'s' if n != 1 else ''})" if n else "")]))
    if artifacts.get("wandb_dir"):
        if artifacts.get("wandb_mode") == "offline":
            paths.append(("W&B run (offline), upload with", [f"wandb sync {shlex.quote(artifacts['wandb_dir'])}"]))
        else:
            paths.append(("W&B run", [artifacts["wandb_dir"]]))
    for label, lines in paths:
        out.print(Text(label + ":", style="bold"))
        for line in lines:
            print_whole(out, line)
