"""Shared test helpers: a private workspace per test, the CLI in a subprocess, W&B file reading."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "pytorch_lightning", "lightning", "ray", "sky", "wandb")


def make_workspace(dest: Path, git: bool = True) -> Path:
    """A copy of the repository's conf/ and experiments/ in `dest`, committed to a fresh git repo."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "conf", dest / "conf")
    shutil.copytree(REPO / "experiments", dest / "experiments")
    (dest / ".gitignore").write_text(".mlws/\nruns/\n")
    if git:
        for args in (
            ["init", "-q"],
            ["add", "-A"],
            ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
        ):
            subprocess.run(["git", *args], cwd=dest, check=True)
    return dest


def clean_env(tmp: Path, **extra) -> dict:
    """No W&B credentials (so W&B runs offline) and W&B's own files kept in the test's folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "MLWS_"))}
    env.update(
        {
            "NETRC": str(tmp / "no-netrc"),
            "WANDB_CONFIG_DIR": str(tmp / "wandb-config"),
            "WANDB_CACHE_DIR": str(tmp / "wandb-cache"),
            "WANDB_DATA_DIR": str(tmp / "wandb-data"),
            "PYTHONHASHSEED": "0",
        }
    )
    env.update(extra)
    return env


def mlws(*args: str, cwd: Path, env: dict, timeout: float = 300, fresh: bool = False) -> subprocess.CompletedProcess:
    """`python -m mlws.cli.main ARGS` in `cwd` with `env`: its output and exit status. By default in a
    child forked from a process that imported torch, Lightning, W&B and the rest once
    (tests/support/cli_zygote.py); `fresh=True` (or MLWS_TEST_FRESH_CLI=1) starts a new interpreter, for
    what happens while those libraries are imported."""
    from .cli_zygote import server

    started = time.monotonic()
    if fresh or os.environ.get("MLWS_TEST_FRESH_CLI") or not server().can_run(env):
        done = subprocess.run(
            [sys.executable, "-m", "mlws.cli.main", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    else:
        done = server().run(args, cwd=cwd, env=env, timeout=timeout)
    _log_cli_call(args, time.monotonic() - started)
    return done


def _log_cli_call(args: tuple[str, ...], seconds: float) -> None:
    """With MLWS_TEST_CLI_LOG set, one JSON line per CLI call (which test, which command, how long):
    where the suite's time goes."""
    path = os.environ.get("MLWS_TEST_CLI_LOG")
    if path:
        line = {"test": os.environ.get("PYTEST_CURRENT_TEST", ""), "args": list(args), "seconds": round(seconds, 3)}
        with open(path, "a") as out:
            out.write(json.dumps(line) + "\n")


def mlws_json(*args: str, cwd: Path, env: dict):
    out = mlws(*args, "--json", cwd=cwd, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on this host now (the OS picks it; a server started next binds it)."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wandb_records(run_dir: Path, record_type: str) -> list:
    """Records of one type ("history", "exit", "run", ...) of an offline W&B run, via wandb's reader."""
    from wandb.proto import wandb_internal_pb2
    from wandb.sdk.internal import datastore

    files = sorted(run_dir.glob("wandb/offline-run-*/run-*.wandb"))
    assert files, f"no offline W&B run under {run_dir}"
    ds = datastore.DataStore()
    ds.open_for_scan(str(files[-1]))
    out = []
    while (data := ds.scan_data()) is not None:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        if record.WhichOneof("record_type") == record_type:
            out.append(record)
    return out


def wandb_rows(folder: Path) -> list[dict]:
    """History rows of one offline-run folder, read with W&B's own record reader."""
    from wandb.proto import wandb_internal_pb2
    from wandb.sdk.internal import datastore

    rows = []
    for path in folder.glob("run-*.wandb"):
        store = datastore.DataStore()
        store.open_for_scan(str(path))
        while (data := store.scan_data()) is not None:
            record = wandb_internal_pb2.Record()
            record.ParseFromString(data)
            if record.WhichOneof("record_type") == "history":
                rows.append({(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in record.history.item})
    return rows


def wandb_history(run_dir: Path) -> list[dict]:
    """History rows of an offline W&B run, read with wandb's own record reader."""
    return [
        {(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in r.history.item}
        for r in wandb_records(run_dir, "history")
    ]


def _create_runs(url: str, n: int, out) -> None:
    """In a child process: record n runs, report their ids (module level so `spawn` can import it)."""
    from mlws.registry import open_registry
    from mlws.spec import RunSpec

    registry = open_registry(url)
    spec = RunSpec(experiment="x", overrides=(), config={}, workspace="/", command="c", created_at="2026-01-01")
    out.put([registry.create(spec, "", "local", run_dir_for=str) for _ in range(n)])


def create_runs_concurrently(url: str, processes: int, per_process: int) -> list[int]:
    """The ids that `processes` processes got by recording `per_process` runs each, all at once."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_create_runs, args=(url, per_process, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    ids = [i for _ in procs for i in queue.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
    return ids


def launch_chromium(playwright):
    """Debian's Chromium, headless, with the flags that keep it off this machine's closed network."""
    return playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


def stop_what_the_workspace_started(ws: Path) -> list[int]:
    """Kill the processes this test's own workspace records as running: detached local runs (from its
    registry), detached servers (its serve state files) and its local Ray head. Never anything else:
    each pid is checked against the start time or command line the workspace recorded."""
    import os
    import signal

    from mlws.registry.liveness import process_alive

    killed = []
    db = ws / ".mlws" / "registry.db"
    if db.exists():
        import sqlite3

        try:  # read-only and raw: a test may have left the file corrupt or from a newer schema on purpose
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                rows = conn.execute("SELECT pid, pid_started FROM runs WHERE status = 'running'").fetchall()
                try:  # sweep drivers (a --detach sweep runs one in the background)
                    rows += conn.execute("SELECT pid, pid_started FROM sweeps WHERE status = 'running'").fetchall()
                except sqlite3.Error:
                    pass
        except sqlite3.Error:
            rows = []
        for pid, started in rows:
            if pid and pid != os.getpid() and process_alive(pid, started):
                _kill_group(pid, signal.SIGKILL)
                killed.append(pid)
    for state_file in (ws / ".mlws" / "serve").glob("run-*.json") if (ws / ".mlws" / "serve").is_dir() else []:
        if state_file.name.endswith("args.json"):
            continue
        try:
            state = json.loads(state_file.read_text())
        except ValueError:
            continue
        if _runs(state.get("pid"), "mlws.serving.server"):
            _kill_group(state["pid"], signal.SIGKILL)
            killed.append(state["pid"])
    from mlws.compute.ray.head import stop_local_head

    stop_local_head(ws / ".mlws")  # checks the pid is still that head
    return killed


def _runs(pid, needle: str) -> bool:
    """Is pid alive and running a command line that contains `needle`?"""
    import psutil

    try:
        return bool(pid) and needle in " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _kill_group(pid: int, sig) -> None:
    import os

    if pid == os.getpid():
        return  # a run this test process recorded for itself
    try:
        if os.getpgid(pid) == os.getpgid(0):
            os.kill(pid, sig)  # a child in pytest's own group: never signal the group
            return
        os.killpg(pid, sig)  # detached runs and servers lead their own session
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


# A compute backend for tests that need run records, not models: `mlws train ... compute=record_only`
# goes through the real launch path (compose, validate, lineage parent, registry, status refresh) and
# the run succeeds at once with metrics derived from its config. Named for what it is in each test.
RECORD_ONLY_BACKEND = """
import hashlib, json
from pathlib import Path

from mlws.compute import Backend, Status, Submission


class RecordOnly(Backend):
    name = "record-only"

    def submit(self, spec_path, *, detach, prepared=None):
        config = json.loads(Path(spec_path).read_text())["config"]
        digest = int(hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8], 16)
        acc = round(0.5 + (digest % 4000) / 10000, 4)
        return Submission(handle={"metrics": {"val/acc": acc, "val/loss": round(1 - acc, 4)}}, remote=True)

    def status(self, record):
        return Status("succeeded", metrics=record["artifacts"]["compute"]["metrics"])
"""


def use_record_only_backend(ws: Path) -> list[str]:
    """Install the record-only backend in a test workspace; returns the overrides that choose it."""
    (ws / "testing_backends").mkdir(exist_ok=True)
    (ws / "testing_backends" / "__init__.py").write_text("")
    (ws / "testing_backends" / "record_only.py").write_text(RECORD_ONLY_BACKEND)
    (ws / "conf" / "compute").mkdir(exist_ok=True)  # beside mlws's packaged compute blocks
    (ws / "conf" / "compute" / "record_only.yaml").write_text("_target_: testing_backends.record_only.RecordOnly\n")
    return ["compute=record_only", "logger=none"]


def forget_user_package(monkeypatch, name: str = "acme") -> None:
    """Tests write user packages of the same name in their own folders: import this test's one."""
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        monkeypatch.delitem(sys.modules, module)


class PicklePayload:
    """Unpickling this runs `touch MARKER`: what a malicious checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def plotly_figures(page: str) -> list[list[dict]]:
    """The trace lists of every Plotly.newPlot call in the page, as plotly wrote them."""
    out, decoder, at = [], json.JSONDecoder(), 0
    while (at := page.find("Plotly.newPlot(", at)) >= 0:
        at = page.index(",", at) + 1  # past the element id
        data, end = decoder.raw_decode(page[at:].lstrip())
        out.append(data)
        at += end
    return out
