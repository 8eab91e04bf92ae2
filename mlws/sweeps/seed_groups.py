"""A sweep that varies `seed` with other keys (`model.lr=1e-3,3e-4 seed=42,43,44`): its trials
grouped by everything but the seed, each group's objective as mean ± sd [95% CI], ranked by mean,
and whether the top two are distinguishable from seed noise. A replicate group (a sweep over `seed`
alone) is one group. Pure."""

from __future__ import annotations

from ..stats import rank, summary_text
from ..stats.text import comparison_text

SEED_KEY = "seed"


def seed_groups(varied: list[str], table: list[dict], mode: str | None) -> dict | None:
    """{"keys": the other varied keys, "groups": [...] best mean first, "top_two": comparison or None}
    from a sweep view's rows (`ranking.rows`); None when the sweep does not vary the seed."""
    if SEED_KEY not in varied:
        return None
    keys = [k for k in varied if k != SEED_KEY]
    members: dict[tuple, dict] = {}
    for row in table:
        key = tuple(repr(row["params"].get(k)) for k in keys)
        group = members.setdefault(key, {"params": {k: row["params"].get(k) for k in keys}, "runs": [], "values": []})
        group["runs"].append(row["run"])
        if row["value"] is not None:
            group["values"].append(row["value"])
    ranked = rank({key: g["values"] for key, g in members.items()}, mode or "max")
    groups = [members[key] | s.as_dict() | {"text": summary_text(s)} for key, s in ranked["ranking"]]
    groups += [g | {"n": 0, "text": "-"} for g in members.values() if not g["values"]]
    top = ranked["top_two"]
    top_two = None
    if top is not None:
        top_two = top.as_dict() | {"text": comparison_text(top)}
    return {"keys": keys, "groups": groups, "top_two": top_two}


def lines(found: dict | None) -> list[str]:
    """The groups in words, for the sweep's table and its markdown."""
    if not found:
        return []
    out = [
        f"by {', '.join(found['keys'])} over seeds (mean ± sd [95% CI]):"
        if found["keys"]
        else "over seeds (mean ± sd [95% CI]):"
    ]
    for i, g in enumerate(found["groups"], 1):
        params = ", ".join(f"{k}={v}" for k, v in g["params"].items()) or "all trials"
        out.append(f"  {i}. {params}: {g['text']}")
    top = found["top_two"]
    if top is not None:
        out.append(f"best vs runner-up: {top['text']}")
    return out
