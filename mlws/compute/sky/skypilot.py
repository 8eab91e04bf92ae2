"""SkyPilot imported the way mlws needs it, and its errors as one line. Every module that imports sky
imports this one first (pricing.py, client.py, clusters.py)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import re
import sys

# SkyPilot imports jsonschema, which compiles ~40 lark grammars at import when rfc3987-syntax (a
# JupyterLab dependency) is installed: ~1 s of every cloud command, for IRI format checks that
# SkyPilot's schema validation never runs (it passes no format checker).
sys.modules.setdefault("rfc3987_syntax", None)


def _no_collection_at_exit() -> None:
    """With SkyPilot imported (pandas, SQLAlchemy, pydantic, FastAPI...), the garbage collection at
    interpreter exit took ~1 s of a cloud plan, freeing memory the OS frees anyway. Only when sky was
    imported; registered before SkyPilot is imported, so it runs after SkyPilot's own exit handlers."""
    if "sky" in sys.modules:
        gc.freeze()


atexit.register(_no_collection_at_exit)


@contextlib.contextmanager
def gc_paused():
    """Python's cyclic collector paused around SkyPilot's import and optimizer (a plan: bounded work):
    they allocate millions of objects, nearly all of them modules' and classes' that live until exit,
    and the collector rescanned them again and again: ~0.4 s of CPU of a first cloud plan. Where
    SkyPilot was imported inside, what was allocated is frozen (kept out of later collections, as at
    exit): else the first collection after the pause scanned it all once more (~0.3 s). The collector
    is enabled again after, so later garbage (`mlws check` plans many tasks) is collected."""
    was_enabled, imported = gc.isenabled(), "sky" in sys.modules
    gc.disable()
    try:
        yield
    finally:
        if not imported and "sky" in sys.modules:
            gc.freeze()
        if was_enabled:
            gc.enable()


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def message(e: BaseException) -> str:
    """The first line of SkyPilot's error, without its colours."""
    text = ANSI.sub("", str(e)).strip()
    return text.splitlines()[0] if text else type(e).__name__
