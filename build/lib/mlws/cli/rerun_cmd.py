"""mlws rerun RUN [--detach]: the same resolved config again, warning about what differs."""
from __future__ import annotations

import sys


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int)
    p.add_argument("--detach", action="store_true")


def run(args) -> int:
    from mlws import api
    from mlws.errors import RunFailed

    from .train_cmd import _closing_summary
    try:
        record, warnings = api.rerun(args.run_id, detach=args.detach)
    except RunFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.detach:
        print(f"run {record['id']} (rerun of {args.run_id}) started in the background")
    else:
        _closing_summary(record)
    return 0 if record["status"] in ("succeeded", "running", "stopped") else 1
