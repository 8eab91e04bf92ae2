"""mlws check [NAME ...]: every experiment composes and validates (what CI runs on each PR)."""
from __future__ import annotations

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("experiments", nargs="*", help="experiment names (default: all in experiments/)")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api
    results = api.check(args.experiments or None)
    if args.json:
        print_json(results)
    else:
        for name, error in results.items():
            print(f"ok    {name}" if error is None else f"FAIL  {name}: {error}")
    return 0 if all(e is None for e in results.values()) else 1
