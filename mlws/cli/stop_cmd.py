"""mlws stop RUN: stop a running run cleanly (last checkpoint kept, status 'stopped')."""

from __future__ import annotations

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the run to stop")
    p.add_argument(
        "--force",
        action="store_true",
        help="when the run's cluster or cloud cannot be reached, record the run as stopped anyway",
    )
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api

    record = api.stop(args.run_id, timeout=args.timeout, force=args.force)
    if args.json:
        print_json(api.summary(record))
    else:
        last = ((record.get("artifacts") or {}).get("checkpoints") or {}).get("last")
        print(f"run {record['id']} {record['status']}" + (f"; last checkpoint: {last}" if last else ""))
    return 0
