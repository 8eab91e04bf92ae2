"""mlws resume RUN [--force] [--detach]: a killed or stopped run (local, a Ray job, or a cloud job with
compute.bucket) carries on from its last.ckpt, as the same run (id, run directory, W&B run); refused
when its code, config or data changed since, or when its backend cannot carry it on (Backend.resumable)."""

from __future__ import annotations

import sys


def add_arguments(p) -> None:
    from .train_cmd import EXIT_CODES

    p.epilog = EXIT_CODES
    p.add_argument("run_id", type=int)
    p.add_argument(
        "--force",
        action="store_true",
        help="carry on even though the code, config or data changed since (recorded with the run)",
    )
    p.add_argument("--detach", action="store_true", help="carry on in the background")


def run(args) -> int:
    from mlws import api

    from .train_cmd import _closing_summary, exit_code, run_foreground

    started = run_foreground(lambda: api.resume(args.run_id, force=args.force, detach=args.detach))
    if isinstance(started, int):
        return started
    record, changes = started
    for change in changes:
        print(f"warning: resumed although {change}", file=sys.stderr)
    if args.detach:
        message = (record.get("message") or "").removeprefix("started in the background").strip()
        if message and not message.startswith("("):  # a job elsewhere: "submitted to Ray at ... as job ..."
            message = f"({message})"
        print(
            f"run {record['id']} resumed in the background{' ' + message if message else ''}; "
            f"follow with: mlws logs {record['id']} --follow"
        )
    else:
        _closing_summary(record)
    return exit_code(record)
