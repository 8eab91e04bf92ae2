"""mlws diff A B | mlws diff --git REF   [--json | --format markdown]

Two runs: what changed between them (effective config, metrics, code). `--git REF`: every
experiment whose effective config this branch changes against REF (a pull request's review).
"""

from __future__ import annotations

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("a", type=int, nargs="?", help="a run id")
    p.add_argument("b", type=int, nargs="?", help="another run id")
    p.add_argument("--git", metavar="REF", help="compare every experiment's effective config with git REF")
    p.add_argument(
        "--results",
        action="store_true",
        help="with --git: each changed step's recorded results (mean ± sd [95%% CI], vs seed noise)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--format", choices=["text", "markdown"], default="text")


def run(args) -> int:
    from mlws.errors import MlwsError

    if args.results and args.git is None:
        raise MlwsError("--results goes with --git REF (two runs' diff shows their replicates already)")
    if args.git is not None:
        if args.a is not None:
            raise MlwsError("give either two run ids or --git REF, not both")
        return _branch(args)
    if args.a is None or args.b is None:
        raise MlwsError("mlws diff needs two run ids (mlws diff 11 12) or --git REF")
    return _runs(args)


def _branch(args) -> int:
    import sys

    from mlws import api
    from mlws.ops.review import own_code_warning

    warning = own_code_warning()
    if warning:
        print(warning, file=sys.stderr)
    result = api.diff_git(args.git, results=args.results)
    from mlws.review.inert import shown

    if result["uncommitted"] and not args.json:
        print(
            shown(
                f"note: comparing {args.git} with the working tree, including uncommitted changes to "
                + ", ".join(result["uncommitted"][:5])
                + (" …" if len(result["uncommitted"]) > 5 else "")
            ),
            file=sys.stderr,
        )
    if args.json:
        print_json(result)
    elif args.format == "markdown":
        from mlws.review.markdown import render

        print(render(result), end="")
    else:
        _print_branch(result)
    return 0


def _print_branch(result: dict) -> None:
    """Names, notes and values come from a branch: control characters are shown as escapes."""
    from mlws.history.diff import change_lines
    from mlws.review.inert import shown, shown_lines

    print(f"experiments at {shown(result['ref'])} ({result['commit'][:10]}) → the working tree")
    for note in result["notes"]:
        print(f"note: {shown(note)}")
    for e in result["experiments"]:
        extra = "".join(
            [
                f" (from {shown(e['renamed_from'])})" if e["renamed_from"] else "",
                f" (builds on {shown(e['builds_on'])})" if e["builds_on"] else "",
            ]
        )
        print(f"{shown(e['experiment'])}  {e['status']}{extra}")
        if e["error"]:
            print(f"  error: {shown_lines(e['error'])}")
        for line in change_lines(e):
            print(f"  {shown(line)}")
        if e.get("replicates"):  # `--results`: the step's recorded runs, mean ± sd [95% CI] and the verdict
            from mlws.review.markdown import step_texts

            rep = e["replicates"]
            before, after, difference = step_texts(rep)
            print(f"  results in {shown(rep['metric'])} ({rep['mode']} is better):")
            print(f"    {shown(rep['before']['label'])}: {before}")
            print(f"    this branch: {after}")
            print(f"    difference: {difference}")
    n = len(result["experiments"])
    print(
        f"{n} of {result['total']} experiment(s) differ"
        if n
        else f"no experiment's effective config differs ({result['total']} checked)"
    )


def _runs(args) -> int:
    from mlws import api
    from mlws.history.diff import change_lines, delta, to_markdown

    d = api.diff(args.a, args.b)
    if args.json:
        print_json(d)
        return 0
    if args.format == "markdown":
        from .replicates_render import diff_markdown

        print(to_markdown(d) + diff_markdown(d.get("replicates")), end="")
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
    from .replicates_render import diff_lines

    for line in diff_lines(d.get("replicates")):  # either run in a replicate group: is it seed noise?
        print(line)
    if d.get("cost"):
        print(_cost_line(d["cost"]))
    code = d["code"]
    print(
        "code: "
        + (
            "same commit"
            if code["same_commit"]
            else "commits " + " → ".join((c or "none")[:10] for c in code["commit"])
        )
        + ("; uncommitted changes differ" if code["patch_changed"] else "")
    )
    from mlws.history.diff import data_line

    print(data_line(d))
    return 0


def _cost_line(c: dict) -> str:
    """`cost: $0.42 → $0.61  (+$0.19)`; hours where a run has no price (mlws/spend/reckon.py)."""
    from mlws.spend.reckon import duration, money

    if None in c["usd"]:
        x, y = c["hours"]
        sign = "+" if c["delta_hours"] >= 0 else "-"
        return f"cost: {duration(x)} → {duration(y)}  ({sign}{duration(abs(c['delta_hours']))})"
    sign = "+" if c["delta_usd"] >= 0 else "-"
    return f"cost: {money(c['usd'][0])} → {money(c['usd'][1])}  ({sign}{money(abs(c['delta_usd']))})"
