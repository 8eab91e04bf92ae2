"""Server and notebook state files are untrusted input: a branch can force-add .mlws/. A planted or
damaged one never gets a process signalled, code imported, a log written through a symlink, or a
traceback; names and ports are checked before anything is written. The victim is always a `sleep`
this test starts in its own session, and the test ends it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from mlws.cli.main import main
from mlws.workspace import Workspace

from ..support.helpers import free_port


@pytest.fixture
def ws(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("defaults: []\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLWS_WORKSPACE", str(tmp_path))
    from mlws.serving import state_files

    state_files._warned.clear()
    return Workspace(tmp_path)


@pytest.fixture
def victim():
    proc = subprocess.Popen(["setsid", "sleep", "300"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not psutil.Process(proc.pid).cmdline()[:1] == ["sleep"]:
        time.sleep(0.05)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def plant(path: Path, state: dict, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))
    path.chmod(mode)
    return path


def serve_state(ws: Workspace, run_id: int = 1) -> Path:
    return ws.state_dir / "serve" / f"run-{run_id}.json"


@pytest.mark.parametrize(
    "extra",
    [{}, {"process_started": None}, {"detached": True}, {"process_started": "same"}],
    ids=["no-start-time", "null-start-time", "detached", "right-start-time-wrong-command"],
)
def test_serve_stop_never_signals_a_process_mlws_did_not_start(ws, victim, capsys, extra):
    if extra.get("process_started") == "same":
        extra = {"process_started": psutil.Process(victim.pid).create_time(), "detached": True}
    plant(serve_state(ws), {"pid": victim.pid, "url": "http://127.0.0.1:1", **extra})
    assert main(["serve", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["serve", "stop", "1"]) == 2
    time.sleep(0.3)
    assert victim.poll() is None, "mlws signalled a process it did not start"


def test_notebook_stop_never_signals_a_process_mlws_did_not_start(ws, victim, capsys):
    started = psutil.Process(victim.pid).create_time()
    plant(
        ws.state_dir / "notebooks" / "nb" / "state.json",
        {"name": "nb", "backend": "local", "pid": victim.pid, "pid_started": started, "url": "http://127.0.0.1:1"},
    )
    assert main(["notebook", "stop", "nb"]) == 2
    time.sleep(0.3)
    assert victim.poll() is None


@pytest.mark.parametrize("kind", ["serve", "notebook"])
def test_a_planted_backend_target_is_never_imported(ws, capsys, kind):
    (ws.root / "evil_mod.py").write_text(f"open({str(ws.root / 'pwned')!r}, 'w').write('x')\nclass Backend: pass\n")
    state = {"pid": 1, "url": "http://x", "compute": {"_target_": "evil_mod.Backend"}}
    if kind == "serve":
        plant(serve_state(ws), state)
    else:
        plant(ws.state_dir / "notebooks" / "nb" / "state.json", {**state, "name": "nb", "backend": "evil"})
    assert main([kind, "list"]) == 0
    if kind == "notebook":
        assert main(["notebook", "status", "nb"]) == 2
    assert not (ws.root / "pwned").exists()
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("ignoring") <= 1


def test_a_state_file_git_could_have_checked_out_is_ignored(ws, capsys):
    (ws.root / "evil_mod.py").write_text(f"open({str(ws.root / 'pwned')!r}, 'w').write('x')\n")
    (ws.root / "conf" / "compute").mkdir()  # even a target the workspace names: the file is not mlws's
    (ws.root / "conf" / "compute" / "evil.yaml").write_text("_target_: evil_mod.Backend\n")
    plant(serve_state(ws), {"pid": 1, "url": "http://x", "compute": {"_target_": "evil_mod.Backend"}}, mode=0o644)
    assert main(["serve", "list"]) == 0
    assert not (ws.root / "pwned").exists()
    assert "not a private (0600) file" in capsys.readouterr().err


def test_serve_state_symlink_is_ignored(ws, tmp_path_factory, capsys):
    elsewhere = plant(tmp_path_factory.mktemp("other") / "s.json", {"pid": 1, "url": "http://x"})
    serve_state(ws).parent.mkdir(parents=True)
    serve_state(ws).symlink_to(elsewhere)
    assert main(["serve", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    "state",
    [
        {"pid": 1},
        {"pid": -5, "url": "http://x"},
        {"pid": True, "url": "http://x"},
        {"pid": 1, "url": 5},
        {"pid": 1, "url": "http://x", "compute": "local"},
        {"pid": 1, "url": "http://x", "compute": 5},
        {"pid": 1, "url": "http://x", "compute": {"_target_": 5}},
    ],
)
def test_a_damaged_serve_state_is_skipped_without_a_traceback(ws, capsys, state):
    plant(serve_state(ws), state)
    assert main(["serve", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == [] and "Traceback" not in err and err.count("\n") <= 1
    assert main(["serve", "stop", "1"]) == 2
    assert "not being served" in capsys.readouterr().err


@pytest.mark.parametrize(
    "state",
    [
        {"name": "nb", "pid": 1, "url": "http://x"},
        {"name": "nb", "backend": "local", "pid": -5},
        {"name": "nb", "backend": "local", "compute": 5},
        {"name": "other", "backend": "local"},
        ["not", "a", "mapping"],
    ],
)
def test_a_damaged_notebook_state_is_skipped(ws, capsys, state):
    path = ws.state_dir / "notebooks" / "nb" / "state.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(state))
    path.chmod(0o600)
    assert main(["notebook", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == [] and "Traceback" not in err
    assert main(["notebook", "stop", "nb"]) == 2


def test_server_log_never_follows_a_symlink(ws, tmp_path_factory):
    from mlws.errors import MlwsError
    from mlws.serving import detached

    victim_file = tmp_path_factory.mktemp("victim") / "victim"
    victim_file.write_text("precious\n")
    folder = ws.state_dir / "serve"
    folder.mkdir(parents=True)
    (folder / "run-1.log").symlink_to(victim_file)
    with pytest.raises(MlwsError, match="symlink"):
        detached.start({"run_id": 1, "host": "127.0.0.1", "port": 1}, ws.root, verbose=False, progress=print)
    assert victim_file.read_text() == "precious\n"
    assert not (folder / "run-1.args.json").exists()


def test_notebook_log_never_follows_a_symlink(ws, tmp_path_factory):
    from mlws.errors import MlwsError
    from mlws.jupyter import local

    victim_file = tmp_path_factory.mktemp("victim") / "victim"
    victim_file.write_text("precious\n")
    folder = ws.state_dir / "notebooks" / "nb"
    folder.mkdir(parents=True)
    (folder / "server.log").symlink_to(victim_file)
    with pytest.raises(MlwsError, match="symlink"):
        local.start(ws, name="nb", host="127.0.0.1", port=free_port(), idle_minutes=0)
    assert victim_file.read_text() == "precious\n"


def test_a_planted_notebook_state_symlink_is_not_written_through(ws, tmp_path_factory):
    from mlws.jupyter import local

    victim_file = tmp_path_factory.mktemp("victim") / "victim"
    victim_file.write_text("precious\n")
    victim_file.chmod(0o644)
    folder = ws.state_dir / "notebooks" / "nb"
    folder.mkdir(parents=True)
    (folder / "state.json").symlink_to(victim_file)
    local._write_private(folder / "state.json", "{}")
    assert victim_file.read_text() == "precious\n" and victim_file.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("name", ["../../../x", "..", ".", "a/b", "a b", ""])
def test_notebook_name_never_leaves_the_workspace(ws, capsys, name):
    before = sorted(p for p in ws.root.parent.rglob("*"))
    assert main(["notebook", "start", "--name", name, "--detach"]) == 2
    assert "name" in capsys.readouterr().err
    assert sorted(p for p in ws.root.parent.rglob("*")) == before


@pytest.mark.parametrize("cmd", [["serve", "1", "--port"], ["notebook", "start", "--port"]])
@pytest.mark.parametrize("port", ["99999", "-5", "0", "x"])
def test_ports_out_of_range_are_one_line_and_exit_2(ws, capsys, cmd, port):
    with pytest.raises(SystemExit) as exit_:
        main([*cmd, port])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "port" in err
    assert not (ws.state_dir / "notebooks").exists()


@pytest.mark.parametrize("where", ["missing/x.yaml", "."])
def test_export_to_an_unwritable_place_is_one_line(ws, monkeypatch, capsys, where):
    from mlws.ops import serving

    monkeypatch.setattr(serving, "_serve_setup", lambda *a: ({}, {"host": "127.0.0.1", "port": 8000, "token": None}))
    assert main(["serve", "1", "--export", str(ws.root / where)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--export" in err


def test_a_dead_servers_leftover_group_and_args_file_go_when_listed(ws, capsys):
    """Ray's agents outlive a SIGKILLed server in its process group: here a `sleep` left by a leader
    that has exited; `serve list` ends it and removes the args file before forgetting the server."""
    started = time.time() - 2
    leader = subprocess.Popen(
        [
            "setsid",
            sys.executable,
            "-c",
            "import subprocess as s; print(s.Popen(['sleep', '300'], stdout=s.DEVNULL).pid)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    agent = int(leader.communicate(timeout=30)[0])
    try:
        assert os.getpgid(agent) == leader.pid
        plant(serve_state(ws), {"pid": leader.pid, "process_started": started, "url": "http://x", "detached": True})
        args_file = plant(serve_state(ws).with_name("run-1.args.json"), {})
        assert main(["serve", "list", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == []
        assert not args_file.exists() and not serve_state(ws).exists()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _running(agent):
            time.sleep(0.1)
        assert not _running(agent)
    finally:
        if _running(agent):
            os.kill(agent, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
