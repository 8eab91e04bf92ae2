"""Replicate groups in words for `runs`, `show`, `diff` (text and markdown) and `lineage`: a group
as `mean ± sd [95% CI] n=K`, a difference with its interval and whether seed noise explains it."""

from __future__ import annotations

from mlws.history.groups import comparison_words, step_lines  # noqa: F401 (lineage_cmd imports step_lines here)


def group_line(group: dict) -> str:
    """`replicate group 3 · runs 6, 7 · val/acc (max is better): 0.18 ± 0.03 [0.1, 0.3] n=2`"""
    runs = ", ".join(str(r) for r in group["runs"])
    few = "" if group["n"] > 1 else "  (fewer than 2 succeeded: no interval)"
    return (
        f"replicate group {group['group']} · runs {runs} · {group['metric'] or '(no metric)'} "
        f"({group['mode']} is better): {group['text']}{few}"
    )


def side_name(side: dict) -> str:
    return f"group {side['group']}" if side["group"] is not None else f"run {side['runs'][0]}"


def diff_lines(rep: dict | None) -> list[str]:
    """The replicate part of `mlws diff A B`: each side's summary, then the difference."""
    if not rep:
        return []
    a, b = rep["a"], rep["b"]
    return [
        f"replicates ({rep['metric']}):",
        f"  {side_name(a)}: {a['text']}",
        f"  {side_name(b)}: {b['text']}",
        f"  difference: {comparison_words(rep['comparison'])}",
    ]


def diff_markdown(rep: dict | None) -> str:
    if not rep:
        return ""
    a, b = rep["a"], rep["b"]
    lines = [
        "",
        f"**replicates** (`{rep['metric']}`, mean ± sd [95% CI]):",
        "",
        f"| {side_name(a)} | {side_name(b)} | difference |",
        "|---|---|---|",
        f"| {a['text']} | {b['text']} | {comparison_words(rep['comparison'])} |",
    ]
    return "\n".join(lines) + "\n"


def best_lines(ranking: dict | None) -> list[str]:
    """`lineage --best`: the groups ranked by their mean, and whether the top two differ."""
    if not ranking:
        return []
    out = [f"ranked by mean {ranking['metric']} ({ranking['mode']} is better):"]
    for i, s in enumerate(ranking["ranking"], 1):
        out.append(f"  {i}. {side_name(s)}: {s['text']}")
    top = ranking.get("top_two")
    if top is not None and len(ranking["ranking"]) > 1:
        first, second = ranking["ranking"][0], ranking["ranking"][1]
        if top.get("distinguishable"):
            out.append(f"{side_name(first)} beats {side_name(second)}: {top['text']}")
        else:
            out.append(f"the top two ({side_name(first)}, {side_name(second)}) are not distinguishable: {top['text']}")
    return out
