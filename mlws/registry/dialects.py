"""What differs between SQLite and PostgreSQL: connecting, placeholders, DDL, locking, errors."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..errors import MlwsError

# (name, SQLite type, PostgreSQL type); the order is the table's, new columns go last.
COLUMNS = [
    ("experiment", "TEXT", "TEXT"),
    ("overrides", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("config", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("command", "TEXT", "TEXT"),
    ("git", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("git_patch", "TEXT", "TEXT"),
    ("versions", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("backend", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("created_at", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("started_at", "TEXT", "TEXT"),
    ("ended_at", "TEXT", "TEXT"),
    ("metrics", "TEXT NOT NULL DEFAULT '{}'", "TEXT NOT NULL DEFAULT '{}'"),
    ("artifacts", "TEXT NOT NULL DEFAULT '{}'", "TEXT NOT NULL DEFAULT '{}'"),
    ("run_dir", "TEXT", "TEXT"),
    ("error", "TEXT", "TEXT"),
    ("host", "TEXT", "TEXT"),
    ("pid", "INTEGER", "INTEGER"),
    ("pid_started", "REAL", "DOUBLE PRECISION"),
    # schema 2: stop reasons, labels, notes, lineage
    ("stop_reason", "TEXT", "TEXT"),
    ("labels", "TEXT NOT NULL DEFAULT '[]'", "TEXT NOT NULL DEFAULT '[]'"),
    ("note", "TEXT NOT NULL DEFAULT ''", "TEXT NOT NULL DEFAULT ''"),
    ("builds_on", "TEXT", "TEXT"),
    ("parent_id", "INTEGER", "INTEGER"),
    ("rerun_of", "INTEGER", "INTEGER"),
    # schema 3: sweeps. A trial is a run of a sweep; trial_key hashes its effective config (resume
    # finds a trial by it), trial_index numbers the sweep's runs, study_trial is Optuna's number.
    ("sweep_id", "INTEGER", "BIGINT"),
    ("trial_key", "TEXT", "TEXT"),
    ("trial_index", "INTEGER", "INTEGER"),
    ("study_trial", "INTEGER", "INTEGER"),
    # the run's monitor.metric/mode/loss, copied from its config at creation (filled in for older
    # runs when the registry is migrated): listings and --best read them without parsing configs
    ("monitor_metric", "TEXT", "TEXT"),
    ("monitor_mode", "TEXT", "TEXT"),
    ("monitor_loss", "TEXT", "TEXT"),
]
MONITOR_COLUMNS = ("monitor_metric", "monitor_mode", "monitor_loss")
SCHEMA_VERSION = 3
# One row per sweep: what was asked (command, search space, sweeper settings) and how it went.
SWEEP_COLUMNS = [
    ("created_at", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("ended_at", "TEXT", "TEXT"),
    ("status", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("command", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("overrides", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("space", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("sweeper", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("settings", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("experiment", "TEXT", "TEXT"),
    ("metric", "TEXT", "TEXT"),
    ("mode", "TEXT", "TEXT"),
    ("base_run_id", "INTEGER", "BIGINT"),
    ("signature", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("host", "TEXT", "TEXT"),
    ("pid", "INTEGER", "INTEGER"),
    ("pid_started", "REAL", "DOUBLE PRECISION"),
    ("error", "TEXT", "TEXT"),
]


class SqliteDialect:
    name = "sqlite"
    param = "?"
    like = "LIKE"  # case-insensitive for ASCII in SQLite
    id_column = "id INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self, path: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = float(os.environ.get("MLWS_REGISTRY_TIMEOUT", "60"))

    # Rows hold whole configs, so a scan of the table reads all of them: these indexes let the common
    # queries (status, a metric of every run, parents, sweeps) read the index alone. SQLite keeps
    # the metrics text in the status index (no size limit on an index entry there).
    indexes = [
        "CREATE INDEX IF NOT EXISTS runs_status_metrics ON runs (status, metrics, labels, experiment)",
        "CREATE INDEX IF NOT EXISTS runs_parent ON runs (parent_id)",
        "CREATE INDEX IF NOT EXISTS runs_monitor ON runs (monitor_metric, monitor_mode)",
        "CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep_id)",
    ]

    @staticmethod
    def json_text(column: str, *keys: str) -> str:
        """SQL for a text value inside a JSON column (SQLite's JSON1)."""
        return f"json_extract({column}, '$.{'.'.join(keys)}')"

    def json_member(self, column: str) -> tuple[str, Callable]:
        """(SQL with one placeholder, key → its parameter): a top-level member of a JSON object, as a
        number when it is one (metric names have slashes and dots, so the key is quoted)."""
        return f"json_extract({column}, {self.param})", lambda key: '$."' + key.replace('"', '\\"') + '"'

    def json_is_number(self, column: str) -> tuple[str, Callable]:
        """(SQL, key → its parameters): is the member a number?"""
        return f"json_type({column}, {self.param}) IN ('integer', 'real')", lambda key: (
            self.json_member(column)[1](key),
        )

    def json_number(self, column: str) -> tuple[str, Callable]:
        """(SQL, key → its parameters): the member as a number, NULL when it is missing or not one."""
        sql, param = self.json_member(column)
        is_number, _ = self.json_is_number(column)
        return f"(CASE WHEN {is_number} THEN {sql} END)", lambda key: (param(key),) * 2

    def number_condition(self, column: str, op: str) -> tuple[str, Callable]:
        """(SQL, (key, value) → its parameters): the member is a number and `op` value holds."""
        sql, param = self.json_member(column)
        is_number, _ = self.json_is_number(column)
        return f"({is_number} AND {sql} {op} {self.param})", lambda key, value: (param(key), param(key), value)

    def connect(self):
        db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def setup(self, db) -> None:
        db.execute("PRAGMA journal_mode=WAL")

    def begin_write(self, db) -> None:
        db.execute("BEGIN IMMEDIATE")  # take the write lock up front: concurrent writers queue

    def columns(self, db) -> list[str]:
        return [r[1] for r in db.execute("PRAGMA table_info(runs)").fetchall()]

    def insert_returning_id(self, db, sql: str, params: tuple) -> int:
        return db.execute(sql, params).lastrowid

    def explain(self, error: Exception) -> str | None:
        text = str(error)
        if "locked" in text or "busy" in text:
            return (
                f"registry {self.path} is locked by another process (waited {self.timeout:.0f} s); "
                "try again when it finishes"
            )
        if isinstance(error, sqlite3.DatabaseError):
            return f"registry {self.path} is unreadable ({text}); move it aside to start a new one"
        return None

    @property
    def errors(self):
        return (sqlite3.Error,)

    def describe(self) -> str:
        return str(self.path)


class PostgresDialect:
    name = "postgresql"
    param = "%s"
    like = "ILIKE"
    id_column = "id BIGSERIAL PRIMARY KEY"

    def __init__(self, url: str):
        self.url = url
        self.timeout = float(os.environ.get("MLWS_REGISTRY_TIMEOUT", "60"))

    # a btree entry has a size limit (~2.7 kB), so metrics stay out of PostgreSQL's status index
    indexes = [
        "CREATE INDEX IF NOT EXISTS runs_status ON runs (status)",
        "CREATE INDEX IF NOT EXISTS runs_parent ON runs (parent_id)",
        "CREATE INDEX IF NOT EXISTS runs_monitor ON runs (monitor_metric, monitor_mode)",
        "CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep_id)",
    ]

    @staticmethod
    def json_text(column: str, *keys: str) -> str:
        return f"({column}::jsonb #>> '{{{','.join(keys)}}}')"

    def json_member(self, column: str) -> tuple[str, Callable]:
        return f"({column}::jsonb -> {self.param})", lambda key: key

    def json_is_number(self, column: str) -> tuple[str, Callable]:
        return f"jsonb_typeof({column}::jsonb -> {self.param}) = 'number'", lambda key: (key,)

    def json_number(self, column: str) -> tuple[str, Callable]:
        p = self.param
        return (
            f"(CASE WHEN jsonb_typeof({column}::jsonb -> {p}) = 'number' THEN ({column}::jsonb ->> {p})::float8 END)",
            lambda key: (key, key),
        )

    def number_condition(self, column: str, op: str) -> tuple[str, Callable]:
        number, params = self.json_number(column)  # CASE: PostgreSQL may evaluate an AND's sides in any order
        return f"({number} {op} {self.param})", lambda key, value: (*params(key), value)

    def connect(self):
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError:
            raise MlwsError("a PostgreSQL registry needs mlws[postgres]: pip install 'mlws[postgres]'") from None
        try:
            # lock_timeout: a writer stuck behind another's lock gives up with a clear error, like SQLite's
            return psycopg.connect(
                self.url,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=10,
                options=f"-c lock_timeout={int(self.timeout * 1000)}",
            )
        except psycopg.OperationalError as e:
            raise MlwsError(
                f"cannot reach the registry database {self.describe()}: {str(e).strip().splitlines()[0]}"
            ) from None

    def setup(self, db) -> None:
        pass

    def begin_write(self, db) -> None:
        db.execute("BEGIN")
        db.execute("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")  # one writer at a time, readers go on

    def columns(self, db) -> list[str]:
        rows = db.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'runs'").fetchall()
        return [r["column_name"] for r in rows]

    def insert_returning_id(self, db, sql: str, params: tuple) -> int:
        return db.execute(sql + " RETURNING id", params).fetchone()["id"]

    def explain(self, error: Exception) -> str | None:
        import psycopg

        if isinstance(error, psycopg.errors.LockNotAvailable):
            return (
                f"registry database {self.describe()} is locked by another process (waited {self.timeout:.0f} s); "
                "try again, or raise MLWS_REGISTRY_TIMEOUT"
            )
        return f"registry database {self.describe()}: {str(error).strip().splitlines()[0]}"

    @property
    def errors(self):
        import psycopg

        return (psycopg.Error,)

    def describe(self) -> str:
        from urllib.parse import urlparse

        u = urlparse(self.url)
        return f"{u.scheme}://{u.hostname}:{u.port or 5432}{u.path}"  # never print the password


def dialect_for(url: str):
    if url.startswith("sqlite:///"):
        return SqliteDialect(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDialect(url)
    raise MlwsError(f"unsupported registry URL (expected sqlite:///PATH or postgresql://...): {url.split('@')[-1]!r}")
