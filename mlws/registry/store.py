"""Registry operations over a SQL dialect: versioned schema, short write transactions, JSON columns."""

from __future__ import annotations

import builtins  # Registry.list shadows `list` in the annotations after it
import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import MlwsError
from .database import Database, now_iso
from .dialects import COLUMNS, MONITOR_COLUMNS, SCHEMA_VERSION, SWEEP_COLUMNS
from .liveness import owned_here, process_alive, process_started
from .records import RunRecord

JSON_COLUMNS = ("overrides", "config", "git", "versions", "metrics", "artifacts", "labels")
# Columns a listing needs; config and the patch are only read for one run, or for search/lineage.
SUMMARY_COLUMNS = [
    "id",
    "experiment",
    "builds_on",
    "parent_id",
    "rerun_of",
    "overrides",
    "command",
    "status",
    "backend",
    "created_at",
    "started_at",
    "ended_at",
    "metrics",
    "artifacts",
    "run_dir",
    "error",
    "stop_reason",
    "labels",
    "note",
    "host",
    "pid",
    "pid_started",
    "sweep_id",
    "trial_key",
    "trial_index",
    "study_trial",
    *MONITOR_COLUMNS,
]


MAX_CHAIN = 10_000  # steps a lineage query follows at most


class Registry:
    def __init__(self, dialect):
        self.database = Database(dialect)
        self.dialect = dialect
        self.p = dialect.param
        self._ensure_schema()

    # -- plumbing ---------------------------------------------------------------------------
    def _db(self, write: bool = False):
        """A connection of the one database object this registry shares with its sweeps table."""
        return self.database.transaction(write)

    def _column_type(self, sqlite: str, pg: str) -> str:
        return sqlite if self.dialect.name == "sqlite" else pg

    def _schema_is_current(self) -> bool:
        """One read, the common case: every command opens the registry, few need to migrate it."""
        try:
            with self._db() as db:
                row = db.execute(f"SELECT value FROM mlws_meta WHERE key = {self.p}", ("schema_version",)).fetchone()
        except MlwsError:  # no tables yet, or an unreadable file: the full path below says which
            return False
        return row is not None and int(dict(row)["value"]) == SCHEMA_VERSION

    def _ensure_schema(self) -> None:
        """Create the tables, or migrate an older registry forward by adding its missing columns."""
        if self._schema_is_current():
            return
        with self._db() as db:
            self.dialect.setup(db)
            db.execute("CREATE TABLE IF NOT EXISTS mlws_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            cols = ", ".join(f"{name} {self._column_type(sqlite, pg)}" for name, sqlite, pg in COLUMNS)
            db.execute(f"CREATE TABLE IF NOT EXISTS runs ({self.dialect.id_column}, {cols})")
            cols = ", ".join(f"{name} {self._column_type(sqlite, pg)}" for name, sqlite, pg in SWEEP_COLUMNS)
            db.execute(f"CREATE TABLE IF NOT EXISTS sweeps ({self.dialect.id_column}, {cols})")
        with self._db(write=True) as db:
            row = db.execute(f"SELECT value FROM mlws_meta WHERE key = {self.p}", ("schema_version",)).fetchone()
            version = int(dict(row)["value"]) if row else 1
            if version > SCHEMA_VERSION:
                raise MlwsError(
                    f"registry {self.dialect.describe()} has schema version {version}, newer than this "
                    f"mlws understands ({SCHEMA_VERSION}); upgrade mlws"
                )
            existing = set(self.dialect.columns(db))
            for name, sqlite, pg in COLUMNS:
                if name not in existing:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {name} {self._column_type(sqlite, pg)}")
            if "monitor_metric" not in existing:  # runs recorded before schema 3: from their configs
                sets = ", ".join(
                    f"{c} = {self.dialect.json_text('config', 'monitor', c.split('_')[1])}" for c in MONITOR_COLUMNS
                )
                db.execute(f"UPDATE runs SET {sets}")
            for index in self.dialect.indexes:
                db.execute(index)
            if row is None:
                db.execute(
                    f"INSERT INTO mlws_meta (key, value) VALUES ({self.p}, {self.p})",
                    ("schema_version", str(SCHEMA_VERSION)),
                )
            elif version < SCHEMA_VERSION:
                db.execute(
                    f"UPDATE mlws_meta SET value = {self.p} WHERE key = {self.p}",
                    (str(SCHEMA_VERSION), "schema_version"),
                )

    @property
    def sweeps(self):
        """The sweeps table (mlws/registry/sweeps.py)."""
        from .sweeps import SweepTable

        return SweepTable(self.database)

    def _write(self, sql: str, params: tuple) -> None:
        with self._db(write=True) as db:
            db.execute(sql, params)

    # -- writing ----------------------------------------------------------------------------
    def create(
        self,
        spec,
        git_patch: str,
        backend: str,
        run_dir_for: Callable[[int], str],
        *,
        labels: Sequence[str] = (),
        note: str = "",
        builds_on: str | None = None,
        parent_id: int | None = None,
        rerun_of: int | None = None,
        trial: dict | None = None,
    ) -> int:
        """Record a new running run owned by this process; returns its ascending id.

        `trial`: {sweep_id, trial_key, trial_index, study_trial} when the run is a sweep's trial."""
        p = self.p
        trial = trial or {}
        monitor = spec.config.get("monitor") or {}
        names = [
            "experiment",
            "overrides",
            "config",
            "command",
            "git",
            "git_patch",
            "versions",
            "backend",
            "status",
            "created_at",
            "started_at",
            "host",
            "pid",
            "pid_started",
            "labels",
            "note",
            "builds_on",
            "parent_id",
            "rerun_of",
            "sweep_id",
            "trial_key",
            "trial_index",
            "study_trial",
            *MONITOR_COLUMNS,
        ]
        values = (
            spec.experiment,
            json.dumps(list(spec.overrides)),
            json.dumps(spec.config),
            spec.command,
            json.dumps(spec.git),
            git_patch,
            json.dumps(spec.versions),
            backend,
            "running",
            spec.created_at,
            now_iso(),
            socket.gethostname(),
            os.getpid(),
            process_started(os.getpid()),
            json.dumps(list(labels)),
            note,
            builds_on,
            parent_id,
            rerun_of,
            trial.get("sweep_id"),
            trial.get("trial_key"),
            trial.get("trial_index"),
            trial.get("study_trial"),
            *(_text_or_none(monitor.get(c.split("_")[1])) for c in MONITOR_COLUMNS),
        )
        with self._db(write=True) as db:
            run_id = self.dialect.insert_returning_id(
                db, f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join([p] * len(names))})", values
            )
            db.execute(f"UPDATE runs SET run_dir = {p} WHERE id = {p}", (run_dir_for(run_id), run_id))
        return run_id

    def set_owner(self, run_id: int, pid: int) -> None:
        """The process now responsible for the run (a detached worker takes over from the CLI)."""
        self.update(run_id, pid=pid, pid_started=process_started(pid), host=socket.gethostname())

    def finish(
        self,
        run_id: int,
        status: str,
        metrics: dict | None = None,
        artifacts: dict | None = None,
        error: str | None = None,
        stop_reason: str | None = None,
    ) -> None:
        """Record the outcome; `artifacts` are merged over what the run already has (its backend's handle)."""
        fields: dict[str, object] = {
            "status": status,
            "ended_at": now_iso(),
            "error": error,
            "stop_reason": stop_reason,
        }
        if metrics is not None:
            fields["metrics"] = metrics
        self.update(run_id, artifacts=artifacts, **fields)

    def update(self, run_id: int, *, artifacts: dict | None = None, **fields) -> None:
        """Set fields; `artifacts` are merged over the stored ones in the same transaction, so a
        launcher and a worker that both add to them never lose each other's keys."""
        p = self.p
        with self._db(write=True) as db:
            if artifacts is not None:
                row = db.execute(f"SELECT artifacts FROM runs WHERE id = {p}", (run_id,)).fetchone()
                stored = json.loads(dict(row)["artifacts"] or "{}") if row is not None else {}
                fields["artifacts"] = {**(stored or {}), **artifacts}
            for key in JSON_COLUMNS:
                if key in fields:
                    fields[key] = json.dumps(fields[key])
            if fields:
                cols = ", ".join(f"{k} = {p}" for k in fields)
                db.execute(f"UPDATE runs SET {cols} WHERE id = {p}", (*fields.values(), run_id))

    # -- reading ----------------------------------------------------------------------------
    def get(self, run_id: int) -> RunRecord:
        with self._db() as db:
            row = db.execute(f"SELECT * FROM runs WHERE id = {self.p}", (run_id,)).fetchone()
        if row is None:
            raise MlwsError(f"no run {run_id} in the registry ({self.dialect.describe()})")
        return _decode(row)

    def exists(self, run_id: int) -> bool:
        with self._db() as db:
            return db.execute(f"SELECT 1 FROM runs WHERE id = {self.p}", (run_id,)).fetchone() is not None

    def list(
        self,
        *,
        experiment: str | None = None,
        status: str | None = None,
        label: str | None = None,
        search: str | None = None,
        ids: builtins.list[int] | None = None,
        full: bool = False,
        newest: int | None = None,
        with_config: bool = False,
        sweep_id: int | None = None,
    ) -> builtins.list[RunRecord]:
        """Runs oldest first, filtered in SQL; `full` adds config and patch (slower), `with_config` the
        config alone; `newest`: only the last N; `sweep_id`: that sweep's trials."""
        where, params = self._filters(experiment, status, label, search)
        p = self.p
        if sweep_id is not None:
            where.append(f"sweep_id = {p}")
            params.append(int(sweep_id))
        if ids is not None:
            if not ids:
                return []
            where.append(f"id IN ({', '.join([p] * len(ids))})")
            params += list(ids)
        cols = ", ".join(["*"] if full else SUMMARY_COLUMNS + (["config"] if with_config else []))
        sql = f"SELECT {cols} FROM runs" + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += f" ORDER BY id DESC LIMIT {int(newest)}" if newest is not None else " ORDER BY id"
        with self._db() as db:
            rows = db.execute(sql, tuple(params)).fetchall()
        decoded = [_decode(r) for r in rows]
        return decoded[::-1] if newest is not None else decoded

    def table(
        self,
        *,
        experiment: str | None = None,
        status: str | None = None,
        label: str | None = None,
        search: str | None = None,
    ) -> builtins.list[tuple]:
        """(id, experiment, status, labels, note, parent_id, created_at, ended_at, metrics, config) per run,
        oldest first, the JSON columns still text: the notebook's DataFrame decodes only these."""
        where, params = self._filters(experiment, status, label, search)
        sql = (
            "SELECT id, experiment, status, labels, note, parent_id, created_at, ended_at, metrics, config FROM runs"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY id"
        )
        with self._db() as db:
            return [tuple(dict(r).values()) for r in db.execute(sql, tuple(params)).fetchall()]

    def count(self, *, experiment=None, status=None, label=None, search=None) -> int:
        where, params = self._filters(experiment, status, label, search)
        sql = "SELECT COUNT(*) AS n FROM runs" + (f" WHERE {' AND '.join(where)}" if where else "")
        with self._db() as db:
            return dict(db.execute(sql, tuple(params)).fetchone())["n"]

    def _filters(self, experiment, status, label, search) -> tuple[builtins.list[str], builtins.list]:
        where: list[str] = []
        params: list = []
        p, like = self.p, self.dialect.like
        if experiment:
            where.append(f"experiment = {p}")
            params.append(experiment)
        if status:
            where.append(f"status = {p}")
            params.append(status)
        if label:
            where.append(f"labels LIKE {p}")
            params.append(f"%{json.dumps(label)}%")
        if search:
            term = f"%{search}%"
            where.append(f"(experiment {like} {p} OR note {like} {p} OR labels {like} {p} OR config {like} {p})")
            params += [term] * 4
        return where, params

    def configs(self, ids: builtins.list[int]) -> dict[int, dict]:
        """{id: resolved config} for these runs."""
        if not ids:
            return {}
        with self._db() as db:
            rows = db.execute(
                f"SELECT id, config FROM runs WHERE id IN ({', '.join([self.p] * len(ids))})", tuple(ids)
            ).fetchall()
        return {dict(r)["id"]: json.loads(dict(r)["config"]) for r in rows}

    def parent_candidates(
        self, experiments: builtins.list[str], before: int | None = None, limit: int = 500
    ) -> builtins.list[RunRecord]:
        """Recent runs of these experiments (or, if none, of any) with their configs, newest first."""
        p = self.p
        base = "SELECT id, experiment, overrides, status, config FROM runs"
        conds: list[str] = []
        params: list = []
        if before is not None:
            conds.append(f"id < {p}")
            params.append(before)
        with self._db() as db:
            rows = []
            if experiments:
                cond = conds + [f"experiment IN ({', '.join([p] * len(experiments))})"]
                rows = db.execute(
                    f"{base} WHERE {' AND '.join(cond)} ORDER BY id DESC LIMIT {int(limit)}",
                    tuple(params + experiments),
                ).fetchall()
            if not rows:
                where = f" WHERE {' AND '.join(conds)}" if conds else ""
                rows = db.execute(f"{base}{where} ORDER BY id DESC LIMIT {int(limit)}", tuple(params)).fetchall()
        return [_decode(r) for r in rows]

    SQL_OPS = {">=": ">=", "<=": "<=", "!=": "<>", "==": "=", "=": "=", ">": ">", "<": "<"}

    def select_by_metrics(
        self,
        where: builtins.list[tuple[str, str, float]],
        sort: str | None = None,
        ascending: bool = False,
        limit: int | None = None,
        *,
        experiment=None,
        status=None,
        label=None,
        search=None,
    ) -> builtins.list[int]:
        """Ids of the runs whose metrics meet `where` [(metric, op, number)], best first by `sort`
        (runs without it last), else oldest first; `limit`: the first N sorted, else the newest N.
        Evaluated by the database over the metrics alone (an index on SQLite)."""
        conds, params = self._filters(experiment, status, label, search)
        number, params_of = self.dialect.json_number("metrics")
        cond_params: list = []
        for key, op, value in where:
            sql, params_for = self.dialect.number_condition("metrics", self.SQL_OPS[op])
            conds.append(sql)
            cond_params += params_for(key, value)
        sql = "SELECT id FROM runs" + (f" WHERE {' AND '.join(conds)}" if conds else "")
        order_params: list = []
        if sort:
            direction = "ASC" if ascending else "DESC"
            # runs without the metric go last, oldest first
            sql += (
                f" ORDER BY ({number} IS NULL), {number} {direction}, "
                f"CASE WHEN {number} IS NULL THEN id END ASC, id {direction}"
            )
            order_params = [*params_of(sort), *params_of(sort), *params_of(sort)]
            sql += f" LIMIT {int(limit)}" if limit is not None else ""
        elif limit is not None:
            sql += f" ORDER BY id DESC LIMIT {int(limit)}"
        else:
            sql += " ORDER BY id"
        with self._db() as db:
            ids = [dict(r)["id"] for r in db.execute(sql, (*cond_params, *params, *order_params)).fetchall()]
        return ids[::-1] if not sort and limit is not None else ids

    def best(self, metric: str, mode: str) -> int | None:
        """The succeeded run with the best `metric` (ties: the newest), by the database."""
        is_number, is_params = self.dialect.json_is_number("metrics")
        number, params_of = self.dialect.json_number("metrics")
        direction = "DESC" if mode == "max" else "ASC"
        sql = (
            f"SELECT id FROM runs WHERE status = {self.p} AND {is_number} "
            f"ORDER BY {number} {direction}, id DESC LIMIT 1"
        )
        with self._db() as db:
            row = db.execute(sql, ("succeeded", *is_params(metric), *params_of(metric))).fetchone()
        return dict(row)["id"] if row is not None else None

    def ancestors(self, run_id: int) -> builtins.list[int]:
        """The run's chain of parents, root first, ending with the run. A parent may be newer than its
        child (re-linked when an experiment's ancestor ran later); a loop, which the lineage rules
        never make, is cut at its first repeat."""
        p = self.p
        sql = (
            f"WITH RECURSIVE chain(id, parent_id, depth) AS (SELECT id, parent_id, 0 FROM runs WHERE id = {p} "
            "UNION ALL SELECT r.id, r.parent_id, c.depth + 1 FROM runs r JOIN chain c ON r.id = c.parent_id "
            f"WHERE c.depth < {MAX_CHAIN}) SELECT id FROM chain ORDER BY depth"
        )
        with self._db() as db:
            walked = [dict(r)["id"] for r in db.execute(sql, (int(run_id),)).fetchall()]
        if not walked:
            raise MlwsError(f"no run {run_id} in the registry")
        ids: list[int] = []
        for i in walked:
            if i in ids:
                break
            ids.append(i)
        return ids[::-1]

    def experiment_links(self) -> dict[str, str | None]:
        """{experiment: the experiment its newest run recorded building on}, for every experiment run."""
        sql = (
            "SELECT experiment, builds_on, MAX(id) AS newest FROM runs WHERE experiment IS NOT NULL "
            "GROUP BY experiment, builds_on ORDER BY newest"
        )
        with self._db() as db:
            return {dict(r)["experiment"]: dict(r)["builds_on"] for r in db.execute(sql).fetchall()}

    def lineage_runs(self, experiments: builtins.list[str]) -> builtins.list[RunRecord]:
        """The runs of these experiments with what the lineage rules read but their configs
        (`configs(ids)` reads those, for the runs a choice compares)."""
        if not experiments:
            return []
        sql = (
            "SELECT id, experiment, overrides, rerun_of, sweep_id, parent_id FROM runs "
            f"WHERE experiment IN ({', '.join([self.p] * len(experiments))}) ORDER BY id"
        )
        with self._db() as db:
            return [_decode(r) for r in db.execute(sql, tuple(experiments)).fetchall()]

    def set_parents(self, parents: dict[int, int | None]) -> None:
        """Set these runs' lineage parents, in one transaction."""
        with self._db(write=True) as db:
            for run_id, parent in parents.items():
                db.execute(f"UPDATE runs SET parent_id = {self.p} WHERE id = {self.p}", (parent, run_id))

    def declared_modes(self, metric: str) -> set[str]:
        """The modes that runs monitoring `metric` declare (monitor.mode)."""
        with self._db() as db:
            rows = db.execute(
                f"SELECT DISTINCT monitor_mode FROM runs WHERE monitor_metric = {self.p}", (metric,)
            ).fetchall()
        return {dict(r)["monitor_mode"] for r in rows} - {None}

    def reap_dead(self, running: Sequence[Mapping[str, Any]] | None = None) -> builtins.list[int]:
        """Mark failed the running runs of this host whose process is gone (SIGKILL, power loss).

        `running`: the running runs, when the caller has just listed them (saves a query)."""
        host = socket.gethostname()
        rows = running if running is not None else self.list(status="running")
        dead = [
            r["id"]
            for r in rows
            if r["host"] == host and owned_here(r) and not process_alive(r["pid"], r["pid_started"])
        ]
        for run_id in dead:
            self._write(
                f"UPDATE runs SET status = 'failed', ended_at = {self.p}, error = {self.p}"
                f" WHERE id = {self.p} AND status = 'running'",
                (now_iso(), "the run's process ended without recording a result (killed?)", run_id),
            )
        return dead


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)


def _decode(row) -> RunRecord:
    record: Any = dict(row)  # a RunRecord once its JSON columns are decoded
    for key in JSON_COLUMNS:
        if record.get(key) is not None:
            record[key] = json.loads(record[key])
    if "monitor_metric" in record:
        record["monitor"] = {k: record.pop(f"monitor_{k}") for k in ("metric", "mode", "loss")}
    return record
