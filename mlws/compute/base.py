"""The small interface a compute backend implements."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Backend(Protocol):
    name: str

    def prepare(self, spec) -> dict:
        """Checks that need the backend (compile, validate, price), before the run is recorded."""
        ...

    def submit(self, spec_path: Path, detach: bool, prepared: dict | None = None) -> dict | None:
        """Run the worker on the spec. Foreground: return the final record. Detached: return None."""
        ...
