"""What `${oc.env:NAME}` becomes while a branch is reviewed: a placeholder naming the variable,
never its value (review/safe.py registers it; validation accepts it for any type)."""

from __future__ import annotations

REDACTED = "<env:{}>"


def is_redacted(value) -> bool:
    return isinstance(value, str) and value.startswith("<env:") and value.endswith(">")
