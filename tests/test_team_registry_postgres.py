"""The same registry on a real PostgreSQL server that this test starts (and stops)."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from .helpers import create_runs_concurrently, mlws, mlws_json, wait_for


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed (.ci/run installs the postgresql package)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL cluster on a free port; as root it runs as the `postgres` user."""
    data = Path(tempfile.mkdtemp(prefix="mlws-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(data, "postgres")
    port = _free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)
    run(_pg_bin("initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres", "--no-sync")
    run(_pg_bin("pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"), "-w", "-t", "60",
        "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        import psycopg
        wait_for(lambda: _can_connect(psycopg, url), timeout=30, what="PostgreSQL to accept connections")
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE DATABASE mlws")
        yield f"postgresql://postgres@127.0.0.1:{port}/mlws"
    finally:
        subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def _can_connect(psycopg, url) -> bool:
    try:
        psycopg.connect(url, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


def test_team_registry_on_postgresql(postgres_url, ws, env, tmp_path):
    env = {**env, "MLWS_REGISTRY_URL": postgres_url}
    out = mlws("train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", "--label", "shared",
               cwd=ws, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    # a teammate with another checkout sees the same history
    from .helpers import make_workspace
    other = make_workspace(tmp_path / "teammate")
    assert mlws("train", "+experiment=model_02", "trainer.max_epochs=1", "logger=none", cwd=other, env=env).returncode == 0
    runs = mlws_json("runs", cwd=ws, env=env)
    assert [(r["id"], r["experiment"], r["status"]) for r in runs] == [(1, "model_01", "succeeded"), (2, "model_02", "succeeded")]
    assert runs[0]["labels"] == ["shared"]
    assert mlws_json("lineage", "2", cwd=other, env=env)[-1]["parent"] == 1
    assert mlws_json("diff", "1", "2", cwd=ws, env=env)["config"]["changed"]["data.normalize"] == [False, True]
    assert mlws_json("runs", "--search", "MODEL_02", cwd=ws, env=env)[0]["id"] == 2  # case-insensitive
    # nothing of this went to the workspace's SQLite file
    assert not (ws / ".mlws" / "registry.db").exists()

    ids = create_runs_concurrently(postgres_url, processes=3, per_process=10)
    assert sorted(ids) == list(range(3, 33))


def test_unreachable_team_registry_is_a_clear_error(ws, env):
    out = mlws("runs", cwd=ws, env={**env, "MLWS_REGISTRY_URL": f"postgresql://u:secret@127.0.0.1:{_free_port()}/x"})
    assert out.returncode == 2 and "cannot reach the registry database" in out.stderr
    assert "secret" not in out.stderr and "Traceback" not in out.stderr
