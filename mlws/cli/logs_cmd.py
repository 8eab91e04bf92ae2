"""mlws logs RUN [--follow]: a detached local run's output, or its backend's job logs."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int)
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")


def run(args) -> int:
    from mlws import api

    return api.logs(args.run_id, follow=args.follow)
