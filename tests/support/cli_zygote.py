"""The mlws CLI in a process forked from one that has already imported the heavy libraries.

A tiny `mlws train` spends about nine tenths of its CPU importing torch, Lightning, Hydra,
scikit-learn, W&B and matplotlib; the suite runs the CLI hundreds of times. This server imports those
third-party libraries once, then forks a child per call. The child is what `python -m mlws.cli.main
ARGS` would be: its own process with the call's working directory, environment (os.environ
replaced), stdin from /dev/null, stdout and stderr in files the caller reads, sys.path[0] the
working directory, `mlws.cli.main` run as `__main__`, and an exit status the caller gets as
`subprocess.run` would report it (a signal as a negative code). mlws's own modules are not imported
by the server, so each call imports the working tree's mlws afresh.

What differs is only what those libraries do while being imported (their notices, environment
variables read at import). Tests of that run the real command: `mlws(..., fresh=True)` in
tests/support/helpers.py, and `MLWS_TEST_FRESH_CLI=1` makes every call a fresh process. Calls whose
environment changes how an interpreter starts (PYTHONPATH, PYTHONHASHSEED, thread counts, ...) are
run fresh automatically.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# imported once in the server; never mlws itself
HEAVY = (
    "torch",
    "lightning.pytorch",
    "pytorch_lightning",
    "hydra",
    "omegaconf",
    "sklearn.datasets",
    "wandb",
    "matplotlib",
    "numpy",
)
# read when an interpreter starts or a library is imported: a call that sets them differently runs fresh
START_UP_ENV = ("PYTHON", "LD_", "OMP_", "MKL_", "OPENBLAS_", "TORCH_", "CUDA_", "MPL", "KMP_")


_REPO = str(Path(__file__).resolve().parents[2])


def _reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:  # already reaped
        pass


def _send(conn: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode()
    conn.sendall(struct.pack("!I", len(data)) + data)


def _receive(conn: socket.socket) -> dict:
    header = _exactly(conn, 4)
    return json.loads(_exactly(conn, struct.unpack("!I", header)[0]))


def _exactly(conn: socket.socket, n: int) -> bytes:
    chunks = b""
    while len(chunks) < n:
        chunk = conn.recv(n - len(chunks))
        if not chunk:
            raise ConnectionError("the CLI server closed the connection")
        chunks += chunk
    return chunks


def _child(request: dict) -> None:
    """In the forked child: become `python -m mlws.cli.main ARGS` and exit with its status."""
    import runpy

    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # sys.stdin/stdout/stderr stay the interpreter's own objects, now on the call's files (a handler a
    # library made at import writes to the same object, so to the same file)
    # as `python -m` has it: the working directory first, then the interpreter's own entries
    sys.path[:] = [request["cwd"], *(p for p in sys.path if p not in ("", _REPO))]
    sys.argv = ["-m", *request["args"]]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    runpy.run_module("mlws.cli.main", run_name="__main__", alter_sys=True)


def _child_status(request: dict) -> int:
    """Run the CLI; its exit status as the interpreter would make it (SystemExit's code, 1 and the
    traceback for an uncaught exception)."""
    try:
        _child(request)
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        return 1
    return 0


def _exit(status: int) -> None:
    """The observable part of the interpreter's exit: non-daemon threads joined, atexit handlers run,
    output flushed. The rest (tearing down every module of torch and the others) only costs time:
    a second or more for a command that runs in a tenth of one."""
    import atexit
    import threading

    try:
        threading._shutdown()  # type: ignore[attr-defined]  # what the interpreter calls at exit
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(status & 0xFF)


def serve(path: str) -> None:
    """Import the heavy libraries, then fork one child per request until stdin closes (the test
    process ended)."""
    import importlib

    for name in HEAVY:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(4)
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable and not sys.stdin.buffer.read1(1):
            os._exit(0)
        if listener not in readable:
            continue
        conn, _ = listener.accept()
        with conn:
            request = _receive(conn)
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                _exit(_child_status(request))
            try:
                _send(conn, {"pid": pid})
                _, status = os.waitpid(pid, 0)
                _send(conn, {"returncode": os.waitstatus_to_exitcode(status)})
            except OSError:  # the caller went away: its child goes too
                _reap(pid)


class CliServer:
    """One server per test process (a pytest-xdist worker has its own), started on first use."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="mlws-cli-")
        self.path = os.path.join(self.folder, "cli.sock")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "MLWS_"))}
        env["PYTHONHASHSEED"] = "0"  # what clean_env gives every call (the hash seed is fixed at start)
        self.env = env
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {_REPO!r}); from tests.support.cli_zygote import serve; "
                f"serve({self.path!r})",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=self.folder,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else b""
        if line.strip() != b"ready":
            raise RuntimeError("the CLI server did not start")

    def can_run(self, env: dict) -> bool:
        """Whether a fork of this server starts as a fresh `python` with `env` would."""
        if self.proc.poll() is not None:
            return False
        for key in set(env) | set(self.env):
            if key.startswith(START_UP_ENV) and env.get(key) != self.env.get(key):
                return False
        return True

    def run(self, args, cwd, env: dict, timeout: float) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(dir=self.folder) as out:
            stdout, stderr = os.path.join(out, "stdout"), os.path.join(out, "stderr")
            Path(stdout).touch()
            Path(stderr).touch()
            request = {"args": list(args), "cwd": str(cwd), "env": dict(env), "stdout": stdout, "stderr": stderr}
            with socket.socket(socket.AF_UNIX) as conn:
                conn.connect(self.path)
                _send(conn, request)
                pid = _receive(conn)["pid"]
                conn.settimeout(timeout)
                started = time.monotonic()
                try:
                    returncode = _receive(conn)["returncode"]
                except TimeoutError:
                    os.kill(pid, signal.SIGKILL)  # as subprocess.run does on its timeout
                    raise subprocess.TimeoutExpired(["mlws", *args], time.monotonic() - started) from None
            return subprocess.CompletedProcess(
                ["mlws", *args],
                returncode,
                Path(stdout).read_text(errors="replace"),
                Path(stderr).read_text(errors="replace"),
            )


_SERVER: CliServer | None = None


def server() -> CliServer:
    global _SERVER
    if _SERVER is None or _SERVER.proc.poll() is not None:
        _SERVER = CliServer()
    return _SERVER
