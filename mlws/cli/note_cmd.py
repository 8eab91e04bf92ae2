"""mlws note RUN TEXT (use - to read the note from standard input)"""

from __future__ import annotations

import sys

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int)
    p.add_argument("text", help="the note; - reads it from standard input")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api

    text = sys.stdin.read() if args.text == "-" else args.text
    result = api.note(args.run_id, text)
    if args.json:
        print_json(result)
    else:
        print(f"run {result['id']} note saved ({len(text)} characters)")
    return 0
