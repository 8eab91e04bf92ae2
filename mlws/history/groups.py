"""Replicate groups: runs that differ only in `seed`, recorded as one sweep over `seed` alone
(`mlws train ... --seeds K`, `mlws rerun N --seeds K`). The group's id is that sweep's id. Here:
which sweeps are groups, a group's summary of its key metric (mean ± sd, 95% CI), and the
comparison of two groups (or a group and a run). Reads records handed in; pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..keymetric import monitor_of
from ..stats import compare, summarize, summary_text
from ..stats.text import comparison_text

if TYPE_CHECKING:
    from ..registry import Registry, RunRecord

SEED_KEY = "seed"


def is_group(sweep: dict | None) -> bool:
    """Is this sweep record a replicate group (its search space is `seed` and nothing else)?"""
    return bool(sweep) and list((sweep.get("space") or {}).keys()) == [SEED_KEY]


def group_ids(registry: Registry) -> set[int]:
    return {s["id"] for s in registry.sweeps.list() if is_group(s)}


def values(runs: Sequence[Mapping[str, Any]], metric: str | None) -> list[float]:
    """The metric of each succeeded run (a failed or running replicate has none)."""
    out = []
    for r in runs:
        v = (r.get("metrics") or {}).get(metric) if metric and r.get("status") == "succeeded" else None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
    return out


def summary(group_id: int | None, runs: Sequence[Mapping[str, Any]], metric: str | None = None) -> dict:
    """{group, runs, metric, mode, values, n, mean, sd, low, high, confidence, text} of a group (or of
    one run: group None). The metric is the runs' own monitor.metric unless one is named."""
    monitor = monitor_of(runs[0]) if runs else {"metric": None, "mode": "max"}
    metric = metric or monitor["metric"]
    xs = values(runs, metric)
    s = summarize(xs)
    return {
        "group": group_id,
        "runs": [r["id"] for r in runs],
        "metric": metric,
        "mode": monitor["mode"],
        "values": xs,
        **(s.as_dict() if s else {"n": 0, "mean": None, "sd": None, "low": None, "high": None, "confidence": 0.95}),
        "text": summary_text(s),
    }


def comparison(a: dict, b: dict) -> dict | None:
    """How b's metric differs from a's (summaries from `summary`), with its interval and the
    verdict in words; `better` says whether b is better by the metric's mode. None without values."""
    if not a["values"] or not b["values"] or a["metric"] != b["metric"]:
        return None
    c = compare(a["values"], b["values"])
    better = None if c.distinguishable is not True else (c.difference > 0) == (b["mode"] != "min")
    return c.as_dict() | {"metric": b["metric"], "better": better, "text": comparison_text(c)}


def group_runs(registry: Registry, group_id: int) -> list[RunRecord]:
    return registry.list(sweep_id=int(group_id))


def group_of(registry: Registry, record: Mapping[str, Any], groups: set[int] | None = None) -> int | None:
    """The replicate group a run belongs to, if any."""
    sweep_id = record.get("sweep_id")
    if sweep_id is None:
        return None
    groups = group_ids(registry) if groups is None else groups
    return sweep_id if sweep_id in groups else None


def side(registry: Registry, record: Mapping[str, Any], groups: set[int] | None = None) -> dict:
    """A run's side of a comparison: its whole replicate group's summary, or the run alone."""
    g = group_of(registry, record, groups)
    return summary(g, group_runs(registry, g) if g is not None else [record])


def comparison_words(c: dict | None) -> str:
    """`+0.031 [+0.012, +0.050], better: distinguishable from seed noise (Welch's t-test, p=0.004)`"""
    if c is None:
        return "no values to compare"
    head, _, verdict = c["text"].partition(": ")
    better = {True: ", better", False: ", worse"}.get(c.get("better"), "")
    return f"{head}{better}: {verdict}"


def step_lines(step: dict) -> list[str]:
    """Under a lineage step (terminal or report): its group's summary and how it differs from the step before."""
    rep = step.get("replicates") or {}
    out = []
    if rep.get("group"):
        g = rep["group"]
        out.append(f"replicate group {g['group']} (runs {', '.join(str(r) for r in g['runs'])}): {g['text']}")
    if rep.get("vs_previous"):
        out.append(f"vs the step before: {comparison_words(rep['vs_previous'])}")
    return out
