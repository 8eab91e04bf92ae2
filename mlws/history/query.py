"""Metric thresholds and sorting for `mlws runs` (filters that SQL cannot do on JSON portably)."""

from __future__ import annotations

import operator
import re

from ..errors import MlwsError

OPS = {
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
    "==": operator.eq,
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
CONDITION = re.compile(r"\s*([^<>=!\s]+)\s*(>=|<=|!=|==|=|>|<)\s*(-?[0-9.eE+-]+)\s*")


def parse_condition(text: str):
    m = CONDITION.fullmatch(text)
    if not m:
        raise MlwsError(f"cannot read condition {text!r}; write METRIC OP NUMBER, e.g. 'val/acc>=0.95'")
    try:
        return m.group(1), OPS[m.group(2)], float(m.group(3))
    except ValueError:
        raise MlwsError(f"not a number in condition {text!r}") from None


def condition_parts(text: str) -> tuple[str, str, float]:
    """'val/acc>=0.95' → ('val/acc', '>=', 0.95), for the database to evaluate."""
    metric, _, value = parse_condition(text)  # a malformed condition is its error
    return metric, CONDITION.fullmatch(text).group(2), value


def apply_where(rows: list[dict], conditions) -> list[dict]:
    parsed = [parse_condition(c) for c in conditions or ()]
    return [
        r
        for r in rows
        if all(
            isinstance((r.get("metrics") or {}).get(k), (int, float)) and op(r["metrics"][k], v) for k, op, v in parsed
        )
    ]


def sort_runs(rows: list[dict], metric: str | None, ascending: bool = False) -> list[dict]:
    """By a metric, best first (descending unless `ascending`); runs without it go last."""
    if not metric:
        return rows
    have = [r for r in rows if isinstance((r.get("metrics") or {}).get(metric), (int, float))]
    missing = [r for r in rows if r not in have] if len(have) != len(rows) else []
    have.sort(key=lambda r: (r["metrics"][metric], r["id"]), reverse=not ascending)
    return have + missing
