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
    proc = subprocess.Popen([sys.executable, "-m", "mlws.cli.main", *argv], cwd=find_workspace().root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env=cell_environment(os.environ))
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


def load_ipython_extension(ipython) -> None:
    ipython.register_magic_function(lambda line: None if mlws_magic(line) == 0 else None,
                                    magic_kind="line", magic_name="mlws")
