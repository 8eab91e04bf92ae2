"""mlws label RUN LABEL... [--remove]"""

from __future__ import annotations

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int)
    p.add_argument("labels", nargs="+")
    p.add_argument("--remove", action="store_true", help="take these labels off instead")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api

    result = api.label(args.run_id, args.labels, remove=args.remove)
    if args.json:
        print_json(result)
    else:
        print(f"run {result['id']} labels: {', '.join(result['labels']) or '(none)'}")
    return 0
