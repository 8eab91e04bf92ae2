"""Which earlier run a new run builds on. Pure: the caller supplies the candidate runs.

1. A run of experiment E with no extra overrides, where E builds on P (P in E's defaults list):
   the latest earlier run of P that had no extra overrides, else the latest run of P.
2. Otherwise (extra overrides, or no run of P yet): the earlier run whose effective config differs
   in the fewest keys (`description` ignored), among runs of E and P (else the latest 500 runs).
   Ties go to the most recent run (the highest id).
3. No earlier runs at all: a root (no parent).
"""
from __future__ import annotations

from .diff import change_count, config_diff


def has_extra_overrides(experiment: str | None, overrides: list[str]) -> bool:
    return any(o != f"+experiment={experiment}" for o in overrides)


def choose_parent(config: dict, experiment: str | None, builds_on: str | None, overrides: list[str],
                  candidates: list[dict]) -> int | None:
    """`candidates`: earlier runs, each {id, experiment, overrides, config}."""
    if not candidates:
        return None
    if builds_on and not has_extra_overrides(experiment, overrides):
        of_parent = sorted((c for c in candidates if c["experiment"] == builds_on), key=lambda c: c["id"])
        plain = [c for c in of_parent if not has_extra_overrides(builds_on, c["overrides"])]
        if plain or of_parent:
            return (plain or of_parent)[-1]["id"]
    scored = [(change_count(config_diff(c["config"], config)), -c["id"]) for c in candidates]
    best = min(scored)
    return -best[1]
