"""mlws train [overrides ...] [--detach]"""
from __future__ import annotations

import contextlib
import shlex
import sys

from mlws.history.keymetric import shown_metrics

from .render import console, format_metrics, print_json


def add_arguments(p) -> None:
    p.add_argument("overrides", nargs="*", help="Hydra overrides: +experiment=NAME, key=value, +key=value, ~key, group=option")
    p.add_argument("--detach", action="store_true", help="run in the background and return the run id at once")
    p.add_argument("--json", action="store_true", help="print the run record as JSON")
    p.add_argument("--label", action="append", default=[], help="label the run (repeatable)")
    p.add_argument("--note", default="", help="a note for the run")


def run(args) -> int:
    from mlws import api
    from mlws.errors import RunFailed

    command = shlex.join(["mlws", "train", *args.overrides] + (["--detach"] if args.detach else []))
    try:
        # With --json, stdout carries only the JSON; training's own output goes to stderr.
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
            record = api.train(args.overrides, detach=args.detach, command=command, labels=args.label,
                               note=args.note)
    except RunFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    if args.json:
        print_json(api.summary(record) | {"artifacts": record.get("artifacts")})
    elif args.detach:
        print(f"run {record['id']} {record['message']}; follow with: mlws logs {record['id']} --follow")
    else:
        _closing_summary(record)
    return 0 if record["status"] in ("succeeded", "running", "stopped") else 1


def _closing_summary(record: dict) -> None:
    from rich.table import Table

    artifacts = record.get("artifacts") or {}
    ckpts = artifacts.get("checkpoints") or {}
    t = Table(title=f"run {record['id']} · {record['experiment'] or '(no experiment)'} · {record['status']}",
              show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    t.add_row("metrics", format_metrics(record.get("metrics"), shown_metrics(record)))
    if record.get("stop_reason"):
        t.add_row("stopped", record["stop_reason"])
    t.add_row("run dir", record["run_dir"])
    for name in ("best", "last"):
        if name in ckpts:
            t.add_row(f"{name} checkpoint", ckpts[name])
    if artifacts.get("wandb_dir"):
        hint = " (offline: upload with `wandb sync <dir>`)" if artifacts.get("wandb_mode") == "offline" else ""
        t.add_row("W&B run", artifacts["wandb_dir"] + hint)
    console().print(t)
