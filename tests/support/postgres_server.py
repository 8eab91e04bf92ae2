"""A throwaway PostgreSQL server for the tests that need one (initdb on the machine: .ci/run installs
the postgresql package), and a database of its own for each test."""

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from .helpers import free_port, wait_for


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed (.ci/run installs the postgresql package)")
    return found


@pytest.fixture(scope="module")
def postgres_server():
    """A throwaway PostgreSQL cluster on a free port, for this module; as root it runs as `postgres`."""
    data = Path(tempfile.mkdtemp(prefix="mlws-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(data, "postgres")
    port = free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)
    run(_pg_bin("initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres", "--no-sync")
    run(
        _pg_bin("pg_ctl"),
        "-D",
        str(data / "db"),
        "-l",
        str(data / "log"),
        "-w",
        "-t",
        "60",
        "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
        "start",
    )
    try:
        url = f"postgresql://postgres@127.0.0.1:{port}"
        import psycopg

        wait_for(lambda: _can_connect(psycopg, url + "/postgres"), timeout=30, what="PostgreSQL to accept connections")
        yield url
    finally:
        subprocess.run(
            [*as_user, _pg_bin("pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request):
    """A database of its own for each test."""
    import psycopg

    name = "mlws_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    with psycopg.connect(postgres_server + "/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name}")
        db.execute(f"CREATE DATABASE {name}")
    yield f"{postgres_server}/{name}"


def _can_connect(psycopg, url) -> bool:
    try:
        psycopg.connect(url, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False
