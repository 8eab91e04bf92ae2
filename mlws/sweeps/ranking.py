"""A sweep's trials ranked by the sweep's own objective, with the keys that vary between them. Pure."""

from __future__ import annotations

from ..flatten import flatten
from .trials import value_of

IGNORED = ("description",)


def varied_keys(configs: list[dict]) -> list[str]:
    """Dotted keys whose value is not the same in every trial (a missing key counts as differing)."""
    flats = [flatten(c) for c in configs]
    keys = sorted({k for f in flats for k in f})
    missing = object()
    return [k for k in keys if k not in IGNORED and len({repr(f.get(k, missing)) for f in flats}) > 1]


def rank(trials: list[dict], metric: str | None, mode: str | None) -> list[dict]:
    """Trials with a value first, best first (ties: the earlier trial); then the rest by trial number."""
    sign = -1.0 if (mode or "max") == "max" else 1.0
    valued = [t for t in trials if value_of(t, metric) is not None]
    rest = [t for t in trials if value_of(t, metric) is None]
    valued.sort(key=lambda t: (sign * value_of(t, metric), t["trial_index"] or 0, t["id"]))
    rest.sort(key=lambda t: (t["trial_index"] or 0, t["id"]))
    return valued + rest


def rows(trials: list[dict], metric: str | None, mode: str | None) -> tuple[list[str], list[dict]]:
    """(varied keys, one row per trial best first: rank, trial, run, status, value, values of the keys)."""
    keys = varied_keys([t.get("config") or {} for t in trials])
    out = []
    for position, t in enumerate(rank(trials, metric, mode), start=1):
        flat = flatten(t.get("config") or {})
        value = value_of(t, metric)
        out.append(
            {
                "rank": position if value is not None else None,
                "trial": t["trial_index"],
                "run": t["id"],
                "status": t["status"],
                "value": value,
                "params": {k: flat.get(k) for k in keys},
                "error": (t.get("error") or "").splitlines()[0] if t.get("error") else None,
            }
        )
    return keys, out


def markdown(sweep: dict, keys: list[str], table: list[dict]) -> str:
    """A pull-request comment: the sweep in one line, then its trials best first."""
    metric = sweep.get("metric") or "value"
    head = (
        f"### Sweep {sweep['id']} · {sweep.get('experiment') or '(no experiment)'} · {sweep['sweeper']} · "
        f"{sweep['status']}\n\n`{sweep['command']}`\n\nObjective: `{metric}` ({sweep.get('mode') or 'max'} is better)"
        f" · {len(table)} trials\n"
    )
    if not table:
        return head + "\nNo trial has run yet.\n"
    cols = ["rank", "trial", "run", "status", metric, *keys]
    lines = [
        "| " + " | ".join(f"`{c}`" if c in keys or c == metric else c for c in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for r in table:
        cells = [
            r["rank"] or "—",
            r["trial"],
            r["run"],
            r["status"],
            f"{r['value']:.4f}" if r["value"] is not None else "—",
            *(r["params"][k] for k in keys),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return head + "\n" + "\n".join(lines) + "\n"


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
