"""mlws cp RUN:PATH DEST: copy a run's artifacts (checkpoints/, media/, ...) to DEST."""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("source", metavar="RUN:PATH", help="e.g. 12:checkpoints/ or 12:checkpoints/last.ckpt")
    p.add_argument("dest")


def run(args) -> int:
    from mlws import api
    from mlws.errors import MlwsError

    run_part, sep, path = args.source.partition(":")
    if not sep or not run_part.isdigit():
        raise MlwsError(f"expected RUN:PATH (like 12:checkpoints/), got {args.source!r}")
    copied = api.copy_artifacts(int(run_part), path, args.dest)
    print(f"copied {copied['files']} file(s), {copied['bytes']:,} bytes to {copied['dest']}")
    return 0
