"""`%load_ext mlws`, then `%mlws ARGS` runs any mlws command from a cell, e.g.
`%mlws train +experiment=model_13 --detach` or `%mlws runs --label best`.

Each command runs as its own process in the kernel's Python (the project's environment), from the
workspace, with its output streamed into the cell; Ctrl-C (interrupt the kernel) stops it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys


def mlws_magic(line: str) -> int:
    from ..workspace import find_workspace

    argv = shlex.split(line)
    if not argv:
        print("usage: %mlws COMMAND [ARGS]  (e.g. %mlws runs, %mlws train +experiment=model_13 --detach)")
        return 2
    root, env = find_workspace().root, cell_environment(os.environ)
    if argv[0] == "watch" and not {"--once", "--json", "-h", "--help"} & set(argv):
        return watch_in_cell(argv, root, env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlws.cli.main", *argv],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env=env,
    )
    try:
        for out in proc.stdout:
            print(out, end="", flush=True)
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        code = proc.wait()
    if code:
        print(f"(mlws {argv[0]} exited with code {code})")
    return code


def cell_environment(environ) -> dict:
    """The command's environment in a cell: plain text. Jupyter's kernel sets FORCE_COLOR and
    CLICOLOR_FORCE for the tools it starts, so rich (and others) would write terminal codes (colours,
    a live view's cursor moves) that a cell prints raw; the output is not a terminal."""
    env = {k: v for k, v in environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE", "CLICOLOR")}
    env.update({"TTY_COMPATIBLE": "0", "NO_COLOR": "1", "TERM": "dumb"})
    return env


def watch_in_cell(argv: list[str], root, env: dict) -> int:
    """`%mlws watch N`: the snapshot (`mlws watch N --once`, plain text) redrawn in place in the cell,
    as the terminal's live view is redrawn; it ends with the run, or when the kernel is interrupted.
    (A terminal's live view moves the cursor: a cell would print those codes raw.)"""
    import time

    from IPython.display import display

    interval = max(_option(argv, "--interval", 1.0), 1.0)
    handle = display({"text/plain": "…"}, raw=True, display_id=True)
    try:
        while True:
            out = subprocess.run(
                [sys.executable, "-m", "mlws.cli.main", *argv, "--once"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
            )
            text = (out.stdout + out.stderr).rstrip("\n")
            if handle is not None:
                handle.update({"text/plain": text}, raw=True)
            if out.returncode or not _running(text):
                if handle is None:  # outside a kernel: printed once, at the end
                    print(text)
                return out.returncode
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0


def _running(snapshot_text: str) -> bool:
    """The view's first line reads `run N · EXPERIMENT · STATUS` (mlws watch's header)."""
    first = snapshot_text.splitlines()[0] if snapshot_text else ""
    return first.startswith("run ") and first.rstrip().endswith("· running")


def _option(argv: list[str], name: str, default: float) -> float:
    for i, arg in enumerate(argv):
        try:
            if arg == name and i + 1 < len(argv):
                return float(argv[i + 1])
            if arg.startswith(name + "="):
                return float(arg.split("=", 1)[1])
        except ValueError:
            return default  # the command itself says what is wrong with it
    return default


def load_ipython_extension(ipython) -> None:
    ipython.register_magic_function(
        lambda line: None if mlws_magic(line) == 0 else None, magic_kind="line", magic_name="mlws"
    )
