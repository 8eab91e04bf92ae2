"""A recorded run's spend as its backend reckons it (each backend's `cost()`, which reads the record
alone), for the commands (ops/cost.py) and the sweep budget (sweeps/budget.py) alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import MlwsError
from .reckon import time_only


def run_cost(record: Mapping[str, Any], classes: dict | None = None) -> dict:
    """{usd, hours, basis, final}: the run's cost (its record needs its config); time only when its
    backend knows no price or cannot be loaded on this machine. `classes`: backend classes by
    `_target_`, found once for many runs."""
    from ..compute import LEGACY_TARGETS, backend_class

    compute = dict((record.get("config") or {}).get("compute") or {})
    target = compute.pop("_target_", None) or LEGACY_TARGETS.get(record.get("backend") or "", "")
    classes = {} if classes is None else classes
    try:
        if target not in classes:
            classes[target] = backend_class({"_target_": target}) if target else None
        cls = classes[target]
        c = cls(compute).cost(record) if cls is not None else None
    except MlwsError:  # a backend this machine cannot import (its extra is missing)
        classes[target], c = None, None
    return c or time_only(record)


def with_configs(registry, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows, each with its config (read in one query for those listed without)."""
    missing = [r["id"] for r in rows if "config" not in r]
    configs = registry.configs(missing) if missing else {}
    return [r if "config" in r else {**r, "config": configs.get(r["id"]) or {}} for r in rows]


def costs_by_id(registry, rows: Sequence[Mapping[str, Any]]) -> dict[int, dict]:
    classes: dict = {}
    return {r["id"]: run_cost(r, classes) for r in with_configs(registry, rows)}
