"""The few columns and config keys a run's cost is reckoned from, read for many runs at once.

A run's row holds its whole resolved config; decoding thousands of them to read four keys made
`mlws lineage` (the cost to reach each step counts every run of its experiments) and `mlws cost`
slow. Here the database extracts only those keys (SQLite's JSON1, PostgreSQL's jsonb) and each
record gets a config that holds just them, which is all a backend's `cost()` reads."""

from __future__ import annotations

import json

# (config path, where it goes in the record's slim config): what backends reckon a cost from
KEYS = (("compute", "_target_"), ("compute", "num_workers"), ("compute", "hourly_rate"), ("cost", "local_hourly"))
COLUMNS = (
    "id",
    "experiment",
    "status",
    "backend",
    "created_at",
    "started_at",
    "ended_at",
    "labels",
    "artifacts",
    "sweep_id",
)


def cost_rows(
    registry, *, experiments: list[str] | None = None, sweep_id: int | None = None, ids: list[int] | None = None
) -> list[dict]:
    """Runs (oldest first) with what their cost needs: every run, or those of these experiments, of
    this sweep, or with these ids."""
    dialect, p = registry.dialect, registry.dialect.param
    extracted = [f"{dialect.json_text('config', *path)} AS k{i}" for i, path in enumerate(KEYS)]
    where, params = [], []
    for column, values in (("experiment", experiments), ("id", ids)):
        if values is not None:
            if not values:
                return []
            where.append(f"{column} IN ({', '.join([p] * len(values))})")
            params += list(values)
    if sweep_id is not None:
        where.append(f"sweep_id = {p}")
        params.append(int(sweep_id))
    sql = (
        f"SELECT {', '.join(COLUMNS)}, {', '.join(extracted)} FROM runs"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY id"
    )
    with registry.database.transaction() as db:
        rows = [dict(r) for r in db.execute(sql, tuple(params)).fetchall()]
    return [_record(r) for r in rows]


def _record(row: dict) -> dict:
    config: dict = {}
    for i, (section, key) in enumerate(KEYS):
        value = _value(row.pop(f"k{i}"))
        if value is not None:
            config.setdefault(section, {})[key] = value
    for column in ("labels", "artifacts"):
        row[column] = json.loads(row[column]) if row.get(column) else ([] if column == "labels" else {})
    return {**row, "config": config}


def _value(text):
    """A number stays a number (PostgreSQL's #>> gives text: it is read back as JSON)."""
    if not isinstance(text, str):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else text
