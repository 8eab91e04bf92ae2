"""Run records handed to code that still annotates them `dict`.

A RunRecord is a plain dict at run time (mlws/registry/records.py), but to a type checker a TypedDict
is not a `dict[str, Any]`. backend_for and the Backend methods (mlws/compute), refresh_status
(mlws/lifecycle.py) and mlws/jupyter still take `dict`, and some callers add keys to the record;
until those take Mapping[str, Any], these name a record as the dict it is. No copy: a callee that changes the record
changes the caller's, as it did before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast


def as_dict(record: Mapping[str, Any]) -> dict[str, Any]:
    return cast("dict[str, Any]", record)


def as_dicts(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", records)
