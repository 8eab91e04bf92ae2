"""mlws rerun RUN [--detach]: the same resolved config again, warning about what differs."""
from __future__ import annotations

import sys


def add_arguments(p) -> None:
    from .train_cmd import EXIT_CODES
    p.epilog = EXIT_CODES
    p.add_argument("run_id", type=int)
    p.add_argument("--detach", action="store_true")


def run(args) -> int:
    from mlws import api

    from .train_cmd import _closing_summary, exit_code, run_foreground
    started = run_foreground(lambda: api.rerun(args.run_id, detach=args.detach))
    if isinstance(started, int):
        return started
    record, warnings = started
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.detach:
        print(f"run {record['id']} (rerun of {args.run_id}) started in the background")
    else:
        _closing_summary(record)
    return exit_code(record)
