"""mlws down compute=NAME: stop what a compute backend started on this machine (a local Ray head)."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("overrides", nargs="*", help="the compute backend, e.g. compute=ray")


def run(args) -> int:
    from mlws import api

    done = api.down(args.overrides)
    print(done or "nothing to stop")
    return 0
