"""Changed keys that cannot be reverted alone: one whose value interpolates another changed key
(`model.scheduler.T_max: ${trainer.max_epochs}`) follows it, so `mlws ablate` treats the two as one
change. Found in the configs as composed before interpolations are resolved; the linking is pure."""

from __future__ import annotations

import re
from typing import Any, cast

# `${a.b.c}`, also inside a resolver's arguments (`${mul:${a.b},2}`); not `${oc.env:X}` nor relative `${..x}`
REFERENCE = re.compile(r"\$\{([A-Za-z_][\w-]*(?:\.[\w-]+)*)\}")


def references(raw: dict) -> dict[str, set[str]]:
    """{dotted key: the node paths its value interpolates} of a flattened, unresolved config."""
    out = {}
    for key, value in raw.items():
        texts = (
            [value]
            if isinstance(value, str)
            else [v for v in value if isinstance(v, str)]
            if isinstance(value, list)
            else []
        )
        found = {m for text in texts for m in REFERENCE.findall(text)}
        if found:
            out[key] = found
    return out


def _covers(reference: str, key: str) -> bool:
    """Does interpolating `reference` read `key` (or a part of it)?"""
    return key == reference or key.startswith(reference + ".") or reference.startswith(key + ".")


def linked(changed: list[str], refs: dict[str, set[str]]) -> list[dict]:
    """[{keys: [...], why: ["a interpolates b", ...]}]: the sets of changed keys joined by
    interpolation (two or more keys each), in the order of `changed`."""
    parent = {k: k for k in changed}

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    why: dict[str, list[str]] = {}
    for key in changed:
        for reference in refs.get(key, ()):
            for other in changed:
                if other != key and _covers(reference, other):
                    a, b = root(key), root(other)
                    if a != b:
                        parent[a] = b
                    why.setdefault(key, []).append(f"{key} interpolates {other}")
    groups: dict[str, list[str]] = {}
    for k in changed:
        groups.setdefault(root(k), []).append(k)
    return [
        {"keys": keys, "why": [w for k in keys for w in why.get(k, [])]} for keys in groups.values() if len(keys) > 1
    ]


def raw_flat(ws, overrides: list[str]) -> dict:
    """The composed config with its interpolations left as written, flattened."""
    from omegaconf import OmegaConf, open_dict

    from ..config import compose_raw
    from ..flatten import flatten

    cfg = compose_raw(ws, overrides)
    with open_dict(cfg):
        del cfg["hydra"]
    return flatten(cast("dict[str, Any]", OmegaConf.to_container(cfg, resolve=False)))  # a DictConfig's: a dict
