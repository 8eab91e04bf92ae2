"""The libraries' own chatter during training goes to the run's log file, not the terminal.

Lightning logs tips and notices at INFO ("GPU available", "💡 Tip: ... litlogger", its model summary)
and libraries warn through Python's `warnings` (deprecations of one library's use of another): a
newcomer cannot judge these lines, so the terminal keeps the progress bar and mlws's summary, and
RUN_DIR/train.log keeps the rest, with a count of the warnings for the summary to mention.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path

# Lightning's two packages and Fabric each configure a logger of their own that prints to stderr.
LOGGERS = ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric", "lightning")
LOG_NAME = "train.log"


class _Route:
    """Lightning's loggers write to the file (errors to the terminal too) until `restore()`."""

    def __init__(self, path: Path):
        self.to_file = logging.FileHandler(path, encoding="utf-8")
        self.to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.errors = logging.StreamHandler()
        self.errors.setLevel(logging.ERROR)
        self.saved: dict[str, tuple[list, bool, int]] = {}
        self.stats = {"path": str(path), "warnings": 0}

    def claim(self) -> None:
        """Take the loggers over; again after a Lightning package is first imported (its import gives
        its logger a terminal handler), keeping that handler for `restore()`."""
        ours = [self.to_file, self.errors]
        for name in LOGGERS:
            logger = logging.getLogger(name)
            added = [h for h in logger.handlers if h not in ours]
            if name not in self.saved:
                self.saved[name] = (added, logger.propagate, logger.level)
            elif added:
                self.saved[name] = (self.saved[name][0] + added, logger.propagate, self.saved[name][2])
            logger.handlers, logger.propagate = ours, False
            logger.setLevel(logging.INFO)

    def restore(self) -> None:
        for name, (handlers, propagate, level) in self.saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate
            logger.setLevel(level)
        self.to_file.close()

    def show_warning(self, message, category, filename, lineno, file=None, line=None):
        self.stats["warnings"] += 1
        self.to_file.acquire()
        try:
            self.to_file.stream.write(f"{category.__name__}: {message} ({filename}:{lineno})\n")
            self.to_file.flush()
        finally:
            self.to_file.release()


@contextmanager
def chatter_to_log(run_dir: str | Path):
    """While inside, Lightning's log records and Python warnings are written to RUN_DIR/train.log
    (errors still reach the terminal too). Yields the route: `.stats` is {"path", "warnings": how
    many were written}; call `.claim()` after importing a Lightning package."""
    path = Path(run_dir) / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    route = _Route(path)
    route.claim()
    previous = warnings.showwarning
    warnings.showwarning = route.show_warning
    try:
        yield route
    finally:
        warnings.showwarning = previous
        route.restore()
