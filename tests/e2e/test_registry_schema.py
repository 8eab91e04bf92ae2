"""The registry migrates older schemas forward, and a locked, newer or corrupted file is a clear error."""

import json
import sqlite3

from ..support.helpers import mlws, mlws_json

# The first released schema (schema 1): no labels, notes, lineage or stop reasons, no version table.
SCHEMA_1 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, experiment TEXT, overrides TEXT NOT NULL,
  config TEXT NOT NULL, command TEXT, git TEXT NOT NULL, git_patch TEXT, versions TEXT NOT NULL, backend TEXT NOT NULL,
  status TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT, ended_at TEXT, metrics TEXT NOT NULL DEFAULT '{}',
  artifacts TEXT NOT NULL DEFAULT '{}', run_dir TEXT, error TEXT, host TEXT, pid INTEGER, pid_started REAL);
"""


def _old_registry(ws):
    path = ws / ".mlws" / "registry.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    db.execute(
        "INSERT INTO runs (experiment, overrides, config, command, git, versions, backend, status, created_at,"
        " metrics, run_dir) VALUES ('model_01', ?, ?, 'mlws train', ?, '{}', 'local', 'succeeded',"
        " '2026-01-01T00:00:00+00:00', ?, '/old/runs/1')",
        (
            json.dumps(["+experiment=model_01"]),
            json.dumps({"seed": 1}),
            json.dumps({"commit": "abc"}),
            json.dumps({"val/acc": 0.5}),
        ),
    )
    db.commit()
    db.close()
    return path


def test_schema_1_registry_migrates_without_losing_runs(ws, env):
    path = _old_registry(ws)
    runs = mlws_json("runs", cwd=ws, env=env)
    assert [(r["id"], r["experiment"], r["metrics"], r["labels"], r["note"]) for r in runs] == [
        (1, "model_01", {"val/acc": 0.5}, [], "")
    ]
    assert mlws("label", "1", "old-baseline", cwd=ws, env=env).returncode == 0
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM mlws_meta WHERE key='schema_version'").fetchone() == ("3",)
    db.close()
    assert mlws_json("show", "1", cwd=ws, env=env)["labels"] == ["old-baseline"]


def test_newer_schema_is_refused(ws, env):
    path = _old_registry(ws)
    mlws_json("runs", cwd=ws, env=env)  # migrate
    db = sqlite3.connect(path)
    db.execute("UPDATE mlws_meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    out = mlws("runs", cwd=ws, env=env)
    assert out.returncode == 2 and "schema version 99, newer than this mlws understands" in out.stderr


def test_locked_registry_is_a_clear_error_and_loses_nothing(ws, env):
    _old_registry(ws)
    mlws_json("runs", cwd=ws, env=env)
    holder = sqlite3.connect(ws / ".mlws" / "registry.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        out = mlws("label", "1", "x", cwd=ws, env={**env, "MLWS_REGISTRY_TIMEOUT": "1"})
        assert out.returncode == 2 and "is locked by another process" in out.stderr and "Traceback" not in out.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert mlws("label", "1", "x", cwd=ws, env=env).returncode == 0
    assert mlws_json("show", "1", cwd=ws, env=env)["labels"] == ["x"]


def test_corrupted_registry_through_the_cli(ws, env):
    (ws / ".mlws").mkdir()
    (ws / ".mlws" / "registry.db").write_bytes(b"\x00garbage" * 512)
    out = mlws("runs", cwd=ws, env=env)
    assert out.returncode == 2 and "unreadable" in out.stderr and "Traceback" not in out.stderr
    assert (ws / ".mlws" / "registry.db").read_bytes() == b"\x00garbage" * 512  # left for the user to inspect
