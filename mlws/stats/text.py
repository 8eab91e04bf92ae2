"""Replicate statistics in words and short numbers, for tables, markdown and the terminal.

Numbers of one interval share one precision: enough decimals to show its spread (the sd, or the
interval's half-width) to two significant digits, so `0.180 ± 0.030 [0.105, 0.255]`, never the mixed
`0.18 ± 0.03 [0.1, 0.3]` that `g` formatting gives when trailing zeros fall away."""

from __future__ import annotations

import math

from .inference import Comparison, Summary

MAX_DECIMALS = 12


def number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


def decimals(spread: float | None) -> int | None:
    """Decimals that show `spread` to two significant digits (None: no spread to go by)."""
    if spread is None or not math.isfinite(spread) or spread == 0:
        return None
    return min(MAX_DECIMALS, max(0, 1 - math.floor(math.log10(abs(spread)))))


def fixed(value: float | None, places: int | None, *, signed: bool = False, digits: int = 4) -> str:
    """`value` with `places` decimals (None: `digits` significant digits)."""
    if value is None:
        return "-"
    sign = "+" if signed else ""
    if places is None:
        return f"{value:{sign}.{digits}g}"
    text = f"{value:{sign}.{places}f}"
    return text.replace("-0." + "0" * places, "0." + "0" * places) if not signed else text


def interval_text(estimate: float | None, low: float | None, high: float | None, *, signed: bool = False) -> str:
    """`+0.101 [+0.088, +0.115]`: the three at the precision of the interval's half-width."""
    if estimate is None:
        return "-"
    if low is None or high is None:
        return fixed(estimate, None, signed=signed, digits=3)
    places = decimals((high - low) / 2) if high != low else decimals(abs(estimate))
    f = lambda x: fixed(x, places, signed=signed, digits=3)
    return f"{f(estimate)} [{f(low)}, {f(high)}]"


def summary_text(s: Summary | None, digits: int = 4) -> str:
    """'0.912 ± 0.004 [0.907, 0.917] n=5' (at the sd's precision); a single value as itself."""
    if s is None:
        return "-"
    if s.n == 1:
        return number(s.mean, digits)
    places = decimals(s.sd)
    f = lambda x: fixed(x, places, digits=digits)
    return f"{f(s.mean)} ± {f(s.sd)} [{f(s.low)}, {f(s.high)}] n={s.n}"


def comparison_text(c: Comparison, digits: int = 3) -> str:
    """'+0.031 [+0.012, +0.050]: distinguishable from seed noise (Welch's t-test, p=0.004)'."""
    if c.low is None:
        return f"{c.difference:+.{digits}g}: {c.verdict}"
    return f"{interval_text(c.difference, c.low, c.high, signed=True)}: {c.verdict}"
