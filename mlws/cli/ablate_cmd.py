"""mlws ablate RUN [--seeds K] [--group a,b ...] [--parallel N] [--json | --format markdown]"""

from __future__ import annotations

import sys

from .render import print_json


def add_arguments(p) -> None:
    from .train_cmd import _at_least

    p.add_argument("run_id", type=int)
    p.add_argument("--seeds", type=_at_least(1), default=3, metavar="K", help="seeds per configuration (default 3)")
    p.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="a,b",
        help="keys that change together, ablated as one change (a key or a prefix; repeatable)",
    )
    p.add_argument("--parallel", type=_at_least(1), default=1, metavar="N", help="runs trained at a time (default 1)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--format", choices=["text", "markdown"], default="text", help="markdown: a pull-request comment")


def run(args) -> int:
    import contextlib

    from mlws import api

    with contextlib.redirect_stdout(sys.stderr):  # training's own output never mixes with the report
        result = api.ablate(args.run_id, seeds=args.seeds, groups=args.group, parallel=args.parallel)
    if args.json:
        print_json(result)
    elif args.format == "markdown":
        sys.stdout.write(markdown(result))
    else:
        sys.stdout.write(text(result))
    return 0


def _interval(x: dict, percent: bool = False) -> str:
    """An effect as `+0.101 [+0.088, +0.115]` (one precision: mlws.stats.text); a share in whole %."""
    from mlws.stats.text import interval_text

    if x["estimate"] is None:
        return "-"
    if not percent:
        return interval_text(x["estimate"], x["low"], x["high"], signed=True)
    est = f"{x['estimate'] * 100:.0f}%"
    if x["low"] is None:
        return est
    return f"{est} [{x['low'] * 100:.0f}%, {x['high'] * 100:.0f}%]"


def _rows(result: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, e in result["effects"].items():
        words = {True: "matters", False: "within seed noise", None: "-"}[e["matters"]]
        rows.append((name, _interval(e["effect"]), _interval(e["share"], percent=True), words))
    return rows


def text(result: dict) -> str:
    g = result["gain"]
    lines = [
        f"ablation of run {result['run']} against its parent, run {result['parent']} · {result['metric']} "
        f"({result['mode']} is better) · seeds {', '.join(map(str, result['seeds']))} · "
        f"{result['trained']} trained, {result['reused']} reused",
        f"gain: {_interval(g)}: {g['verdict']}",
        "",
    ]
    rows = [("change", "effect [95% CI]", "share of gain", "")] + _rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines += ["", f"interaction (gain minus the sum of single effects): {_interval(result['interaction'])}"]
    return "\n".join(lines) + "\n"


def markdown(result: dict) -> str:
    from mlws.history.diff import short

    g = result["gain"]
    esc = lambda s: str(s).replace("|", "\\|").replace("`", "'").replace("<", "&lt;")
    out = [
        f"### mlws ablate: run {result['run']} (parent: run {result['parent']})",
        "",
        f"**gain** in `{esc(result['metric'])}`: {_interval(g)}, {esc(g['verdict'])} "
        f"({len(result['seeds'])} seed(s) per configuration)",
        "",
        "| change | values | effect [95% CI] | share of gain | |",
        "|---|---|---|---|---|",
    ]
    changes = {c["change"]: c for c in result["changes"]}
    for name, effect, share, words in _rows(result):
        values = "; ".join(f"{short(a, 20)} → {short(b, 20)}" for a, b in changes[name]["keys"].values())
        out.append(f"| `{esc(name)}` | {esc(values)} | {effect} | {share} | {words} |")
    out += ["", f"**interaction** (gain minus the sum of single effects): {_interval(result['interaction'])}"]
    return "\n".join(out) + "\n"
