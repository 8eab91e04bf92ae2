"""This machine: the worker in this process, or in a background process with --detach."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


class LocalBackend:
    name = "local"

    def prepare(self, spec) -> dict:
        return {}

    def submit(self, spec_path: Path, detach: bool, prepared: dict | None = None) -> dict | None:
        if not detach:
            from .. import worker
            return worker.run(spec_path)
        log = Path(spec_path).parent / "output.log"
        with log.open("ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "mlws.worker", str(spec_path)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # survives the terminal closing
        return {"pid": proc.pid, "log": str(log)}
