"""Serving goes through the compute backend: a user's own backend (one class and one YAML in the
workspace, chosen by `_target_`, no mlws file touched) serves a run with `mlws serve RUN
compute=NAME`, and `serve list` / `serve stop` find it and ask it, as they ask the local and
SkyPilot backends. Its server is Python's own http.server: a real process on a free port. Also the
`serve` and `notebook` subcommands: their help, and bad words refused in one line with nothing kept."""

import json
import urllib.request

import pytest

from ..support.helpers import free_port, mlws, mlws_json, wait_for

STATIC_BACKEND = '''
"""A team's own serving backend: a page naming the run, served by http.server in its own session."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from mlws.compute.base import Backend
from mlws.errors import MlwsError


class StaticServe(Backend):
    name = "static"

    def submit(self, spec_path, *, detach, prepared=None):
        raise MlwsError("compute=static only serves")

    def serve(self, record, args, *, workspace, dry_run=False, detach=True, verbose=False, ready=None, progress=print):
        root = Path(workspace.state_dir) / "static" / str(record["id"])
        root.mkdir(parents=True, exist_ok=True)
        (root / "index.html").write_text(f"run {record['id']} ({self.config['greeting']})")
        got = {k: args[k] for k in ("run_id", "host", "port", "checkpoint")}
        (root.parent / "got.json").write_text(json.dumps({**got, "detach": detach}))
        proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(args["port"]), "--bind", args["host"], "--directory", str(root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        url = f"http://{args['host']}:{args['port']}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    proc.kill()
                    raise MlwsError("the static server did not answer")
                time.sleep(0.1)
        progress(f"static server up (pid {proc.pid})")
        return {"url": url, "where": f"static pid {proc.pid}", "pid": proc.pid}

    def serve_alive(self, state, *, workspace):
        try:
            return "http.server" in " ".join(psutil.Process(state["pid"]).cmdline())
        except psutil.Error:
            return False

    def serve_down(self, state, *, workspace):
        os.kill(state["pid"], signal.SIGTERM)
        (Path(workspace.state_dir) / "static" / "down.json").write_text(json.dumps(state))
'''


def install_static_backend(ws) -> None:
    (ws / "static_backend.py").write_text(STATIC_BACKEND)
    (ws / "conf" / "compute").mkdir(exist_ok=True)  # beside mlws's packaged compute blocks
    (ws / "conf" / "compute" / "static.yaml").write_text("_target_: static_backend.StaticServe\ngreeting: hello\n")


def pid_gone(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def static_servers(ws):
    """Whatever http.server this test's backend left (an assertion failed before `serve stop`)."""
    yield
    import psutil

    for p in psutil.process_iter(["cmdline"]):
        if "http.server" in (p.info["cmdline"] or []) and str(ws) in " ".join(p.info["cmdline"]):
            p.kill()


def test_a_users_backend_serves_lists_and_stops(ws, env, static_servers):
    trained = mlws("train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", cwd=ws, env=env)
    assert trained.returncode == 0, trained.stderr[-2000:]
    install_static_backend(ws)
    port = free_port()
    served = mlws("serve", "1", "compute=static", "--port", str(port), cwd=ws, env=env, timeout=120)
    assert served.returncode == 0, served.stderr[-2000:]
    url = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(url, timeout=10) as r:  # the backend's own server, with its YAML's config
        assert r.read().decode() == "run 1 (hello)"
    got = json.loads((ws / ".mlws/static/got.json").read_text())
    assert got["run_id"] == 1 and got["host"] == "127.0.0.1" and got["port"] == port
    assert got["checkpoint"].endswith(".safetensors") and (ws / got["checkpoint"]).exists()
    listed = mlws_json("serve", "list", cwd=ws, env=env)
    assert [(s["run_id"], s["url"], s["where"]) for s in listed] == [(1, url, f"static pid {listed[0]['pid']}")]
    assert "static server up" in served.stdout and f"run 1 served on static pid {listed[0]['pid']}: {url}/" in (
        served.stdout
    )
    assert f"run 1  {url}  (static pid {listed[0]['pid']})" in mlws("serve", "list", cwd=ws, env=env).stdout
    again = mlws("serve", "1", "compute=static", "--port", str(free_port()), cwd=ws, env=env)
    assert again.returncode == 2 and f"already served at {url}" in again.stderr

    stopped = mlws("serve", "stop", "1", cwd=ws, env=env)
    assert stopped.returncode == 0 and f"stopped the server for run 1 (static pid {listed[0]['pid']})" in stopped.stdout
    assert json.loads((ws / ".mlws/static/down.json").read_text())["pid"] == listed[0]["pid"]  # the backend was asked
    wait_for(lambda: pid_gone(listed[0]["pid"]), 30, what="the static server to end")
    assert mlws("serve", "list", cwd=ws, env=env).stdout.strip() == "no servers running"
    assert not (ws / ".mlws/serve/run-1.json").exists()

    # a server that ended by itself: its backend says so, and the listing forgets it
    served = mlws("serve", "1", "compute=static", "--port", str(port), cwd=ws, env=env, timeout=120)
    assert served.returncode == 0, served.stderr[-2000:]
    pid = mlws_json("serve", "list", cwd=ws, env=env)[0]["pid"]
    import os
    import signal

    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pid_gone(pid), 30, what="the killed server to end")
    assert mlws_json("serve", "list", cwd=ws, env=env) == []
    assert not (ws / ".mlws/serve/run-1.json").exists()
    out = mlws("serve", "stop", "1", cwd=ws, env=env)
    assert out.returncode == 2 and out.stderr.startswith("error: run 1 is not being served")


@pytest.mark.parametrize(
    "words, expected",
    [
        (["serve", "stop", "abc"], "error: expected a run id after `mlws serve stop`, got 'abc'"),
        (["serve", "nope"], "error: expected a run id, `list` or `stop` after `mlws serve`, got 'nope'"),
        (["serve", "run", "x1"], "error: expected a run id, `list` or `stop` after `mlws serve`, got 'x1'"),
        (["serve", "stop", "5"], "error: run 5 is not being served (mlws serve list)"),
        (["notebook", "stop", "nosuch"], "error: "),
    ],
)
def test_bad_words_are_one_line_exit_2_and_nothing_kept(ws, env, words, expected):
    before = sorted(p.relative_to(ws) for p in ws.rglob("*") if ".git" not in p.parts)
    out = mlws(*words, cwd=ws, env=env)
    assert out.returncode == 2 and out.stderr.startswith(expected) and out.stderr.count("\n") == 1, out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert sorted(p.relative_to(ws) for p in ws.rglob("*") if ".git" not in p.parts) == before


def test_help_shows_the_subcommands(ws, env):
    served = mlws("serve", "--help", cwd=ws, env=env)
    assert served.returncode == 0
    assert "mlws serve RUN [compute overrides] [options] | mlws serve list [--json] | mlws serve stop RUN" in (
        served.stdout
    )
    shown = {line.split()[0] for line in served.stdout.splitlines() if line.startswith("    ")}
    assert {"run", "list", "stop"} <= shown, served.stdout
    notebook = mlws("notebook", "--help", cwd=ws, env=env)
    shown = {line.split()[0] for line in notebook.stdout.splitlines() if line.startswith("    ")}
    assert notebook.returncode == 0 and {"start", "list", "status", "stop"} <= shown, notebook.stdout
    # a subcommand's own options: `serve list` has --json, not --port
    assert "--port" in mlws("serve", "1", "--help", cwd=ws, env=env).stdout
    listing = mlws("serve", "list", "--help", cwd=ws, env=env).stdout
    assert "--json" in listing and "--port" not in listing
    assert mlws("notebook", "list", cwd=ws, env=env).stdout.strip().endswith("no notebooks running")
    assert mlws_json("serve", "list", cwd=ws, env=env) == []
