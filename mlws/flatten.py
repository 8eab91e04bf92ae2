"""Nested dicts to dotted keys and back."""

from __future__ import annotations


def flatten(tree: dict, prefix: str = "") -> dict:
    """{'a': {'b': 1}} -> {'a.b': 1}. Lists and empty dicts are leaves."""
    out: dict = {}
    flatten_into(out, tree, prefix)
    return out


def flatten_into(out: dict, tree: dict, prefix: str = "") -> None:
    """flatten(), writing into `out` (no intermediate dicts: the notebook flattens 10,000 configs)."""
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flatten_into(out, value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
