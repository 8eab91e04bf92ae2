"""mlws diff A B [--json | --format markdown]"""
from __future__ import annotations

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("a", type=int)
    p.add_argument("b", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--format", choices=["text", "markdown"], default="text")


def run(args) -> int:
    from mlws import api
    from mlws.history.diff import change_lines, delta, to_markdown
    d = api.diff(args.a, args.b)
    if args.json:
        print_json(d)
        return 0
    if args.format == "markdown":
        print(to_markdown(d), end="")
        return 0
    a, b = d["runs"]
    print(f"run {a} ({d['experiments'][0]}) → run {b} ({d['experiments'][1]})")
    lines = change_lines(d["config"])
    print("config:" if lines else "config: identical")
    for line in lines:
        print(f"  {line}")
    print("metrics:")
    for k, (x, y) in d["metrics"].items():
        dl = delta(x, y)
        fmt = lambda v: "—" if v is None else f"{v:.4f}"
        print(f"  {k}: {fmt(x)} → {fmt(y)}" + (f"  ({dl:+.4f})" if dl is not None else ""))
    code = d["code"]
    print("code: " + ("same commit" if code["same_commit"] else
                      "commits " + " → ".join((c or "none")[:10] for c in code["commit"]))
          + ("; uncommitted changes differ" if code["patch_changed"] else ""))
    return 0
