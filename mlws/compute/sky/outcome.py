"""A finished cloud run's outcome as its node wrote it: result.json (and the spend ledger) in the
run's bucket folder, else the MLWS_RESULT line of the job's log."""

from __future__ import annotations

from pathlib import Path

from ...errors import MlwsError
from ..base import Status


def outcome(backend, record: dict, handle: dict, *, job_log: bool, strict: bool = False) -> Status | None:
    """The node's result: result.json in the bucket, else the MLWS_RESULT line of the job's log.
    `strict`: a bucket that could not be read raises (nothing else can tell); else a warning."""
    import json
    import sys
    import tempfile

    from ...worker import RESULT_MARKER
    from . import client
    from .artifacts import BucketUnreachable

    result, ledger = None, None
    if ((record.get("config") or {}).get("compute") or {}).get("bucket"):
        with tempfile.TemporaryDirectory(prefix="mlws-result-") as tmp:
            try:
                backend.copy(record, "result.json", Path(tmp) / "result.json")
                result = json.loads((Path(tmp) / "result.json").read_text())
                ledger = _ledger(backend, record, Path(tmp))
            except BucketUnreachable as e:
                if strict:
                    raise MlwsError(f"its result.json could not be read ({e}); kept as recorded") from None
                print(f"warning: run {record['id']}: its result.json could not be read ({e})", file=sys.stderr)
            except (MlwsError, OSError, ValueError):
                result = None
    if result is None and job_log:
        lines = [line for line in client.log_tail(handle).splitlines() if RESULT_MARKER in line]
        if lines:
            try:
                result = json.loads(lines[-1].split(RESULT_MARKER, 1)[1])
            except ValueError:
                result = None
    if not result or result.get("status") not in ("succeeded", "failed", "stopped"):
        return None
    artifacts = {**(record.get("artifacts") or {}), **({"ledger": ledger} if ledger else {})}  # the run's cost
    return Status(
        result["status"],
        metrics=result.get("metrics") or None,
        artifacts=artifacts,
        error=result.get("error"),
        stop_reason=result.get("stop_reason"),
    )


def _ledger(backend, record: dict, tmp: Path) -> dict | None:
    """The node's spend ledger (spend.json, beside result.json in the bucket): kept with the record,
    so the run's cost is reckoned from what was billed (mlws/spend/reckon.py). None if it has none."""
    import json

    try:
        backend.copy(record, "spend.json", tmp / "spend.json")
        ledger = json.loads((tmp / "spend.json").read_text())
    except (MlwsError, OSError, ValueError):
        return None
    return ledger if isinstance(ledger, dict) else None
