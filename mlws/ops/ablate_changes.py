"""The changes of one lineage step parent → run, as `mlws ablate` ablates them: one per changed key
(`description`, `seed` and `cost` aside), per `--group`, or per set of keys joined by interpolation
(ablate_links.py). Pure."""

from __future__ import annotations

from ..errors import MlwsError
from ..flatten import flatten

IGNORED = ("description", "seed", "cost")  # what the step's changes never include (cost.*: a price, not
# what a run learns; ablating it only trained the same configuration twice)
MISSING = object()  # a key one side does not have
_MISSING = MISSING


def step_changes(parent_config: dict, run_config: dict, groups=(), refs: dict | None = None) -> list[dict]:
    """[{change, keys: {key: [parent value, run value]}, linked}]: one per changed key, or per --group;
    keys joined by interpolation (refs: ablate_links.references of the unresolved configs) are one
    change, or join the --group one of them is in (`linked` says why)."""
    from .ablate_links import linked

    a, b = flatten(parent_config or {}), flatten(run_config or {})
    changed = {
        k: [a.get(k, _MISSING), b.get(k, _MISSING)]
        for k in sorted(a.keys() | b.keys())
        if k.split(".", 1)[0] not in IGNORED and a.get(k, _MISSING) != b.get(k, _MISSING)
    }
    if not changed:
        raise MlwsError(
            "the run's config equals its parent's (apart from seed, description and cost): nothing to ablate"
        )
    taken: dict[str, str] = {}
    out = []
    by_group: dict[str, dict] = {}
    for text in groups:
        items = [i.strip() for i in str(text).split(",") if i.strip()]
        keys = []
        for item in items:
            hit = [k for k in changed if k == item or k.startswith(item + ".")]
            if not hit:
                raise MlwsError(
                    f"--group {text}: {item} is not a key this step changes (it changes: {', '.join(changed)})"
                )
            keys += [k for k in hit if k not in keys]
        for k in keys:
            if k in taken:
                raise MlwsError(f"--group {text}: {k} is already in --group {taken[k]}")
            taken[k] = text
        by_group[text] = {"change": "+".join(items), "keys": {k: changed[k] for k in keys}, "linked": []}
        out.append(by_group[text])
    for link in linked(list(changed), refs or {}):  # a key that follows another is never reverted alone
        owners = sorted({taken[k] for k in link["keys"] if k in taken})
        if len(owners) > 1:
            raise MlwsError(
                f"{'; '.join(link['why'])}: these keys change together, but "
                f"{' and '.join('--group ' + o for o in owners)} separate them"
            )
        if owners:
            entry = by_group[owners[0]]
        else:
            entry = {"change": "+".join(link["keys"]), "keys": {}, "linked": []}
            out.append(entry)
        entry["keys"] |= {k: changed[k] for k in link["keys"]}
        entry["linked"] += link["why"]
        for k in link["keys"]:
            taken.setdefault(k, owners[0] if owners else entry["change"])
    out += [{"change": k, "keys": {k: v}, "linked": []} for k, v in changed.items() if k not in taken]
    return [
        {
            "change": c["change"],
            "keys": {k: [_shown(x), _shown(y)] for k, (x, y) in c["keys"].items()},
            "linked": c["linked"],
            "_raw": c["keys"],
        }
        for c in out
    ]


def _shown(value):
    return "(none)" if value is _MISSING else value
