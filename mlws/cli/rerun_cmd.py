"""mlws rerun RUN [--detach]: the same resolved config again, warning about what differs."""

from __future__ import annotations

import sys


def add_arguments(p) -> None:
    from .train_cmd import EXIT_CODES, _at_least

    p.epilog = EXIT_CODES
    p.add_argument("run_id", type=int)
    p.add_argument("--detach", action="store_true")
    p.add_argument(
        "--exact",
        action="store_true",
        help="the run's own commit and patch (a git worktree), package versions and data, with deterministic "
        "algorithms: on CPU, weights identical to the run's (refused, with the reason, where it cannot be)",
    )
    p.add_argument(
        "--seeds",
        type=_at_least(1),
        metavar="K",
        help="K runs of its overrides differing only in seed (from its seed up), as one replicate group",
    )
    p.add_argument("--parallel", type=_at_least(1), default=1, metavar="N", help="with --seeds: runs at a time")
    p.add_argument("--json", action="store_true", help="with --seeds: the group's sweep and summary as JSON")


def run(args) -> int:
    from mlws import api

    from .train_cmd import _closing_summary, exit_code, run_foreground

    if args.seeds is not None and getattr(args, "exact", False):
        from mlws.errors import MlwsError

        raise MlwsError("--exact repeats one run as it was; --seeds varies its seed: choose one")
    if args.seeds is not None:
        from .seeds_render import rerun_seeds

        return rerun_seeds(args)
    if args.parallel != 1 or args.json:
        from mlws.errors import MlwsError

        raise MlwsError("--parallel and --json are for a replicate group: add --seeds K")
    if getattr(args, "exact", False):
        started = run_foreground(lambda: api.rerun_exact(args.run_id, detach=args.detach))
    else:
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
