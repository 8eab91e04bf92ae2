"""A sweep's trials stay comparable: the trials a resume (or the same command again) would run must
have the effective config of the sweep's recorded trials outside the swept keys. An experiment file
changed since (a base config the trials are built on) makes them another search: refused with the
differing keys named, or, with --force, started as a new sweep that names the old one (`follows`)."""

from __future__ import annotations

from ..flatten import flatten

_MISSING = object()


def changed_keys(registry, record: dict, planned: dict, space: dict) -> dict:
    """{key: [recorded, now]} of the keys outside the swept ones where a planned trial's config
    differs from the sweep's first recorded trial's; {} when nothing was recorded or planned."""
    trials = [t for t in registry.list(sweep_id=int(record["id"]), with_config=True) if t.get("config")]
    if not trials or not planned:
        return {}
    swept = [k.lstrip("+~") for k in {**(record.get("space") or {}), **space}]  # swept before or now
    old = flatten(trials[0]["config"])
    new = flatten(next(iter(planned.values()))[0].config)

    def outside(key: str) -> bool:
        return not any(key == s or key.startswith(s + ".") or s.startswith(key + ".") for s in swept)

    return {
        k: [old.get(k, _MISSING), new.get(k, _MISSING)]
        for k in sorted(old.keys() | new.keys())
        if outside(k) and old.get(k, _MISSING) != new.get(k, _MISSING)
    }


def refusal(record: dict, changed: dict, shown: int = 5) -> str:
    def value(v):
        return "(none)" if v is _MISSING else repr(v) if not isinstance(v, str) else v

    parts = [f"{k}: {value(a)} → {value(b)}" for k, (a, b) in list(changed.items())[:shown]]
    more = f" and {len(changed) - shown} more" if len(changed) > shown else ""
    return (
        f"sweep {record['id']}'s trials were built on another config: {'; '.join(parts)}{more} "
        f"(outside the swept keys {', '.join(record['space']) or '(none)'}); its trials and new ones would not "
        f"be comparable. Run it again with --force to start them as a new sweep that follows sweep {record['id']}"
    )
