"""Replicate statistics in words and short numbers, for tables, markdown and the terminal."""

from __future__ import annotations

from .inference import Comparison, Summary


def number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


def summary_text(s: Summary | None, digits: int = 4) -> str:
    """'0.912 ± 0.004 [0.907, 0.917] n=5'; a single value as itself."""
    if s is None:
        return "-"
    if s.n == 1:
        return number(s.mean, digits)
    return f"{number(s.mean, digits)} ± {number(s.sd, 2)} [{number(s.low, digits)}, {number(s.high, digits)}] n={s.n}"


def comparison_text(c: Comparison, digits: int = 3) -> str:
    """'+0.031 [0.012, 0.050]: distinguishable from seed noise (Welch's t-test, p=0.004)'."""
    diff = f"{c.difference:+.{digits}g}"
    if c.low is None:
        return f"{diff}: {c.verdict}"
    return f"{diff} [{c.low:+.{digits}g}, {c.high:+.{digits}g}]: {c.verdict}"
