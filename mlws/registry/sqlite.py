"""SQLite registry: WAL mode and immediate transactions so concurrent runs never lose records."""
from __future__ import annotations

import json
import os
import socket
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..errors import MlwsError
from .liveness import process_alive, process_started

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment TEXT,
    overrides TEXT NOT NULL,
    config TEXT NOT NULL,
    command TEXT,
    git TEXT NOT NULL,
    git_patch TEXT,
    versions TEXT NOT NULL,
    backend TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    metrics TEXT NOT NULL DEFAULT '{}',
    artifacts TEXT NOT NULL DEFAULT '{}',
    run_dir TEXT,
    error TEXT,
    stop_reason TEXT,
    host TEXT,
    pid INTEGER,
    pid_started REAL
);
"""
JSON_COLUMNS = ("overrides", "config", "git", "versions", "metrics", "artifacts")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SqliteRegistry:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise MlwsError(f"registry {self.path} is unreadable ({e}); move it aside to start a new one") from None

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, taking the write lock up front.
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=60000")
        return db

    def _write(self, sql: str, params: tuple) -> sqlite3.Cursor:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute(sql, params)
            db.execute("COMMIT")
            return cur
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def create(self, spec, git_patch: str, backend: str, run_dir_for: Callable[[int], str]) -> int:
        """Record a new running run owned by this process; returns its ascending id."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute(
                "INSERT INTO runs (experiment, overrides, config, command, git, git_patch, versions, backend,"
                " status, created_at, started_at, host, pid, pid_started)"
                " VALUES (?,?,?,?,?,?,?,?,'running',?,?,?,?,?)",
                (spec.experiment, json.dumps(list(spec.overrides)), json.dumps(spec.config), spec.command,
                 json.dumps(spec.git), git_patch, json.dumps(spec.versions), backend, spec.created_at,
                 now_iso(), socket.gethostname(), os.getpid(), process_started(os.getpid())))
            run_id = cur.lastrowid
            db.execute("UPDATE runs SET run_dir=? WHERE id=?", (run_dir_for(run_id), run_id))
            db.execute("COMMIT")
            return run_id
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def set_owner(self, run_id: int, pid: int) -> None:
        """The process now responsible for the run (a detached worker takes over from the CLI)."""
        self._write("UPDATE runs SET pid=?, pid_started=?, host=? WHERE id=?",
                    (pid, process_started(pid), socket.gethostname(), run_id))

    def update(self, run_id: int, **fields) -> None:
        for key in JSON_COLUMNS:
            if key in fields:
                fields[key] = json.dumps(fields[key])
        cols = ", ".join(f"{k}=?" for k in fields)
        self._write(f"UPDATE runs SET {cols} WHERE id=?", (*fields.values(), run_id))

    def finish(self, run_id: int, status: str, metrics: dict | None = None,
               artifacts: dict | None = None, error: str | None = None, stop_reason: str | None = None) -> None:
        fields = {"status": status, "ended_at": now_iso(), "error": error, "stop_reason": stop_reason}
        if metrics is not None:
            fields["metrics"] = metrics
        if artifacts is not None:
            fields["artifacts"] = artifacts
        self.update(run_id, **fields)

    def get(self, run_id: int) -> dict:
        db = self._connect()
        try:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        finally:
            db.close()
        if row is None:
            raise MlwsError(f"no run {run_id} in the registry ({self.path})")
        return _decode(row)

    def list(self) -> list[dict]:
        db = self._connect()
        try:
            rows = db.execute("SELECT * FROM runs ORDER BY id").fetchall()
        finally:
            db.close()
        return [_decode(r) for r in rows]

    def reap_dead(self) -> list[int]:
        """Mark failed the running runs of this host whose process is gone (SIGKILL, power loss)."""
        host = socket.gethostname()
        db = self._connect()
        try:
            rows = db.execute("SELECT id, pid, pid_started FROM runs WHERE status='running' AND host=?",
                              (host,)).fetchall()
        finally:
            db.close()
        dead = [r["id"] for r in rows if not process_alive(r["pid"], r["pid_started"])]
        for run_id in dead:
            self._write("UPDATE runs SET status='failed', ended_at=?, error=? WHERE id=? AND status='running'",
                        (now_iso(), "the run's process ended without recording a result (killed?)", run_id))
        return dead


def _decode(row: sqlite3.Row) -> dict:
    record = dict(row)
    for key in JSON_COLUMNS:
        if record.get(key) is not None:
            record[key] = json.loads(record[key])
    return record
