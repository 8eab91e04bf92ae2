"""What changed between two runs: effective config (dotted keys), metrics, code. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..flatten import flatten


def config_diff(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict:
    """{"changed": {key: [a, b]}, "added": {key: b}, "removed": {key: a}} over flattened configs."""
    fa, fb = flatten(a or {}), flatten(b or {})
    return {
        "changed": {k: [fa[k], fb[k]] for k in sorted(fa.keys() & fb.keys()) if fa[k] != fb[k]},
        "added": {k: fb[k] for k in sorted(fb.keys() - fa.keys())},
        "removed": {k: fa[k] for k in sorted(fa.keys() - fb.keys())},
    }


def change_count(diff: dict, ignore: tuple[str, ...] = ("description",)) -> int:
    return sum(1 for part in diff.values() for k in part if k not in ignore)


def metric_diff(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict:
    a, b = a or {}, b or {}
    return {k: [a.get(k), b.get(k)] for k in sorted(a.keys() | b.keys())}


def code_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict:
    ga, gb = a.get("git") or {}, b.get("git") or {}
    return {
        "commit": [ga.get("commit"), gb.get("commit")],
        "same_commit": ga.get("commit") == gb.get("commit"),
        "dirty": [ga.get("dirty"), gb.get("dirty")],
        "patch_changed": (a.get("git_patch") or "") != (b.get("git_patch") or ""),
    }


def data_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict:
    """The runs' data fingerprints (artifacts["data"]["digest"], None where not fingerprinted) and
    whether they differ: a changed fingerprint is a change, like a config key's."""
    digests = [((r.get("artifacts") or {}).get("data") or {}).get("digest") for r in (a, b)]
    return {"fingerprints": digests, "changed": None not in digests and digests[0] != digests[1]}


def run_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict:
    """The `mlws diff A B --json` contract; records need config, metrics, git and git_patch."""
    return {
        "runs": [a["id"], b["id"]],
        "experiments": [a.get("experiment"), b.get("experiment")],
        "config": config_diff(a.get("config"), b.get("config")),
        "metrics": metric_diff(a.get("metrics"), b.get("metrics")),
        "code": code_diff(a, b),
        "data": data_diff(a, b),
    }


def data_line(d: dict) -> str:
    """`data: same fingerprint`, `data: changed (3f2a… → 9b1c…)`, or what was not fingerprinted."""
    x, y = (d.get("data") or {}).get("fingerprints") or [None, None]
    if x is None or y is None:
        return "data: not fingerprinted (" + " → ".join(_digest(v) for v in (x, y)) + ")"
    return "data: same fingerprint" if x == y else f"data: changed ({_digest(x)} → {_digest(y)})"


def _digest(value) -> str:
    return "none" if value is None else str(value).split(":", 1)[-1][:12]


def short(value, width: int = 40) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"


def change_lines(diff: dict, ignore: tuple[str, ...] = ()) -> list[str]:
    """One readable line per changed key: `model.lr: 0.001 → 0.0003`."""
    lines = [f"{k}: {short(a)} → {short(b)}" for k, (a, b) in diff["changed"].items() if k not in ignore]
    lines += [f"+ {k}: {short(v)}" for k, v in diff["added"].items() if k not in ignore]
    lines += [f"- {k}: {short(v)}" for k, v in diff["removed"].items() if k not in ignore]
    return lines


def delta(a, b) -> float | None:
    return b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None


def to_markdown(d: dict) -> str:
    """A pull-request comment: config changes, metric deltas, code state."""
    a, b = d["runs"]
    out = [
        f"### mlws diff: run {a} ({d['experiments'][0]}) → run {b} ({d['experiments'][1]})",
        "",
        "| config key | run %s | run %s |" % (a, b),
        "|---|---|---|",
    ]
    cfg = d["config"]
    rows = [(k, short(x), short(y)) for k, (x, y) in cfg["changed"].items()]
    rows += [(k, "—", short(v)) for k, v in cfg["added"].items()] + [
        (k, short(v), "—") for k, v in cfg["removed"].items()
    ]
    out += [f"| `{k}` | {x} | {y} |" for k, x, y in rows] or ["| (no config changes) | | |"]
    out += ["", "| metric | run %s | run %s | Δ |" % (a, b), "|---|---|---|---|"]
    for k, (x, y) in d["metrics"].items():
        dl = delta(x, y)
        fmt = lambda v: "—" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))
        out.append(f"| `{k}` | {fmt(x)} | {fmt(y)} | {'' if dl is None else f'{dl:+.4f}'} |")
    code = d["code"]
    commits = " → ".join((c or "none")[:10] for c in code["commit"])
    out += [
        "",
        f"**code**: {'same commit' if code['same_commit'] else 'commits ' + commits}"
        f"{'; uncommitted changes differ' if code['patch_changed'] else ''}",
        "",
        f"**{data_line(d)}**",
    ]
    return "\n".join(out) + "\n"
