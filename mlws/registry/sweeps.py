"""The sweeps table: one row per sweep (what was asked, its search space and settings, how it went).

Its trials are ordinary runs carrying the sweep's id (runs.sweep_id); this table never copies them."""

from __future__ import annotations

import builtins  # SweepTable.list shadows `list` in the annotations after it
import json
import os
import socket

from ..errors import MlwsError
from .database import now_iso
from .liveness import process_started

JSON_FIELDS = ("overrides", "space", "settings")


class SweepTable:
    """The sweeps table, on the database object the runs table uses (database.py)."""

    def __init__(self, database):
        self.database = database
        self.p = database.param

    def create(
        self,
        *,
        command: str,
        overrides: list[str],
        space: dict,
        sweeper: str,
        settings: dict,
        experiment: str | None,
        metric: str | None,
        mode: str | None,
        base_run_id: int | None,
        signature: str,
    ) -> int:
        """Record a new sweep driven by this process; returns its id."""
        fields = {
            "created_at": now_iso(),
            "status": "running",
            "command": command,
            "overrides": overrides,
            "space": space,
            "sweeper": sweeper,
            "settings": settings,
            "experiment": experiment,
            "metric": metric,
            "mode": mode,
            "base_run_id": base_run_id,
            "signature": signature,
            **self._owner(os.getpid()),
        }
        names, values = list(fields), [_encode(k, v) for k, v in fields.items()]
        sql = f"INSERT INTO sweeps ({', '.join(names)}) VALUES ({', '.join([self.p] * len(names))})"
        with self.database.transaction(write=True) as db:
            return self.database.dialect.insert_returning_id(db, sql, tuple(values))

    @staticmethod
    def _owner(pid: int) -> dict:
        return {"host": socket.gethostname(), "pid": pid, "pid_started": process_started(pid)}

    def update(self, sweep_id: int, **fields) -> None:
        if not fields:
            return
        cols = ", ".join(f"{k} = {self.p}" for k in fields)
        with self.database.transaction(write=True) as db:
            db.execute(
                f"UPDATE sweeps SET {cols} WHERE id = {self.p}",
                (*(_encode(k, v) for k, v in fields.items()), int(sweep_id)),
            )

    def take_over(self, sweep_id: int, pid: int | None = None) -> None:
        """This process (or `pid`) now drives the sweep (a resume, a background driver)."""
        self.update(sweep_id, status="running", ended_at=None, error=None, **self._owner(pid or os.getpid()))

    def get(self, sweep_id: int) -> dict:
        with self.database.transaction() as db:
            row = db.execute(f"SELECT * FROM sweeps WHERE id = {self.p}", (int(sweep_id),)).fetchone()
        if row is None:
            raise MlwsError(f"no sweep {sweep_id} in the registry ({self.database.dialect.describe()})")
        return _decode(row)

    def list(self, newest: int | None = None) -> list[dict]:
        """Sweeps oldest first (`newest`: only the last N)."""
        sql = "SELECT * FROM sweeps ORDER BY id" + (f" DESC LIMIT {int(newest)}" if newest is not None else "")
        with self.database.transaction() as db:
            rows = [_decode(r) for r in db.execute(sql).fetchall()]
        return rows[::-1] if newest is not None else rows

    def count(self) -> int:
        with self.database.transaction() as db:
            return dict(db.execute("SELECT COUNT(*) AS n FROM sweeps").fetchone())["n"]

    def find(self, signature: str) -> dict | None:
        """The newest sweep with this signature (the same command, resumed by running it again)."""
        with self.database.transaction() as db:
            row = db.execute(
                f"SELECT * FROM sweeps WHERE signature = {self.p} ORDER BY id DESC LIMIT 1", (signature,)
            ).fetchone()
        return _decode(row) if row is not None else None

    def trials_summary(self, sweep_ids: builtins.list[int]) -> builtins.list[dict]:
        """[{id, sweep_id, status, metrics}] of these sweeps' trials, in one query (by the sweep index)."""
        if not sweep_ids:
            return []
        marks = ", ".join([self.p] * len(sweep_ids))
        with self.database.transaction() as db:
            rows = db.execute(
                f"SELECT id, sweep_id, status, metrics FROM runs WHERE sweep_id IN ({marks})", tuple(sweep_ids)
            ).fetchall()
        return [dict(r) | {"metrics": json.loads(dict(r)["metrics"] or "{}")} for r in rows]


def _encode(key: str, value):
    return json.dumps(value) if key in JSON_FIELDS else value


def _decode(row) -> dict:
    record = dict(row)
    for key in JSON_FIELDS:
        if record.get(key) is not None:
            record[key] = json.loads(record[key])
    return record
