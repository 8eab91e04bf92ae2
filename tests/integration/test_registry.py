"""The SQLite registry: ascending ids, no lost records under concurrency, dead runs detected."""

import subprocess
import sys

from mlws.registry import open_registry
from mlws.spec import RunSpec

from ..support.helpers import create_runs_concurrently


def _spec(i: int = 0) -> RunSpec:
    return RunSpec(
        experiment=f"model_{i:02d}",
        overrides=("+experiment=x",),
        config={"seed": i},
        workspace="/tmp",
        command="mlws train",
        created_at="2026-01-01T00:00:00+00:00",
        git={"commit": "abc", "dirty": False},
    )


def test_create_finish_get(tmp_path):
    registry = open_registry(f"sqlite:///{tmp_path / 'r.db'}")
    a = registry.create(_spec(1), "diff --git", "local", run_dir_for=lambda i: f"/runs/{i}")
    b = registry.create(_spec(2), "", "local", run_dir_for=lambda i: f"/runs/{i}")
    assert b == a + 1
    registry.finish(a, "succeeded", metrics={"val/acc": 0.9}, artifacts={"checkpoints": {"best": "x"}})
    rec = registry.get(a)
    assert rec["status"] == "succeeded" and rec["metrics"] == {"val/acc": 0.9}
    assert rec["run_dir"] == f"/runs/{a}" and rec["git_patch"] == "diff --git" and rec["ended_at"]
    assert rec["labels"] == [] and rec["note"] == ""
    assert [r["id"] for r in registry.list()] == [a, b]


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "r.db")
    open_registry(f"sqlite:///{path}")
    ids = create_runs_concurrently(f"sqlite:///{path}", processes=4, per_process=25)
    assert sorted(ids) == list(range(1, 101))
    assert len(open_registry(f"sqlite:///{path}").list()) == 100


def test_run_of_a_dead_process_is_marked_failed(tmp_path):
    registry = open_registry(f"sqlite:///{tmp_path / 'r.db'}")
    live = registry.create(_spec(), "", "local", run_dir_for=str)  # owned by this (live) process
    dead = registry.create(_spec(), "", "local", run_dir_for=str)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    registry.set_owner(dead, proc.pid)
    assert registry.reap_dead() == [dead]
    assert registry.get(dead)["status"] == "failed" and "killed" in registry.get(dead)["error"]
    assert registry.get(live)["status"] == "running"


def test_corrupt_registry_is_a_clear_error(tmp_path):
    import pytest

    from mlws.errors import MlwsError

    path = tmp_path / "r.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(MlwsError, match="unreadable"):
        open_registry(f"sqlite:///{path}")
