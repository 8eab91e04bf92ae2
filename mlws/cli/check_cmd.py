"""mlws check [NAME ...]: every experiment composes, validates and plans (what CI runs on each PR).

Safe on a checkout of someone else's branch: nothing it names is imported or run, secrets from
the environment are never read into what it prints.
"""

from __future__ import annotations

import sys

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("experiments", nargs="*", help="experiment names (default: all in experiments/)")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api
    from mlws.ops.review import own_code_warning

    # names and values from a branch: control characters shown as escapes, never acted on
    from mlws.review.inert import shown, shown_lines

    warning = own_code_warning()
    if warning:
        print(warning, file=sys.stderr)
    results = api.check(args.experiments or None)
    failed = [r for r in results if not r["ok"]]
    if args.json:
        print_json(results)
    else:
        for r in results:
            if r["ok"]:
                print(f"ok    {shown(r['file'])}  (compute: {shown(r['compute'])})")
            else:
                print(f"FAIL  {shown(r['file'])}: {shown_lines(r['error'])}")
            for note in r["notes"]:
                print(f"        {shown_lines(note)}")
        print(f"{len(results)} file(s): {len(results) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0
