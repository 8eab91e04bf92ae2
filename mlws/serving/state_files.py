"""Reading a server's or notebook's state file as untrusted input: a branch can force-add files
under .mlws/, so a state file is believed only if mlws could have written it (a regular file of
this user, mode 0600: git never checks one out so), its fields have the shapes mlws writes, and
its process is the one mlws started (pid, start time and command line) before anything signals
it. Its backend is checked by mlws.compute.trusted before it is built."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeGuard

_warned: set[str] = set()


def warn_once(path: Path, why: str) -> None:
    """One line per file and command: a planted or damaged file is skipped, never a traceback."""
    if str(path) not in _warned:
        _warned.add(str(path))
        print(f"mlws: ignoring {path}: {why}", file=sys.stderr)


def read_private_json(path: Path) -> dict | None:
    """The JSON object in `path` if mlws could have written it; None (with one warning line for a
    file that is there but not mlws's) otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:  # a symlink (ELOOP), or unreadable
        warn_once(path, "a symlink or unreadable, not a state file mlws wrote")
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            warn_once(path, "not a private (0600) file of this user, as mlws writes its state")
            return None
        try:
            data = json.loads(f.read())
        except ValueError:
            return None  # being written, or damaged
    return data if isinstance(data, dict) else None


def valid_pid(pid: Any) -> TypeGuard[int]:
    return isinstance(pid, int) and not isinstance(pid, bool) and pid > 0


def valid_time(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def shape_error(state: dict, *, required: Iterable[str] = ()) -> str | None:
    """Why a state's fields are not what mlws writes; None when they are."""
    for key in required:
        if key not in state:
            return f"no {key!r}"
    if "pid" in state and state["pid"] is not None and not valid_pid(state["pid"]):
        return "its pid is not a positive integer"
    for key in ("url", "name", "backend", "where"):
        if key in state and state[key] is not None and not isinstance(state[key], str):
            return f"its {key!r} is not text"
    if "compute" in state and state["compute"] is not None and not isinstance(state["compute"], dict):
        return "its compute is not a mapping"
    return None


def started_process(pid: Any, started: Any, marks: Iterable[str]) -> bool:
    """Is `pid` still the process mlws started: same start time, and a command line holding every
    one of `marks`? A state without its start time is not believed."""
    import psutil

    from ..registry.liveness import process_alive

    if not (valid_pid(pid) and valid_time(started) and process_alive(pid, started)):
        return False
    try:
        proc = psutil.Process(pid)
        if proc.uids().real != os.getuid():
            return False
        cmdline = proc.cmdline()
    except (psutil.Error, OSError):
        return False
    return all(any(mark in arg for arg in cmdline) for mark in marks)
