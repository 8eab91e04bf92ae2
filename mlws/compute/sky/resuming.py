"""`mlws resume N` for a cloud run: a new job for the same run, into the same run folder in the bucket.

The node's worker then carries on from the folder's last.ckpt exactly as after a spot recovery (the
same builder code: the same run id, run directory and W&B run). Only a run whose folder is in
compute.bucket can: without one its run directory, and last.ckpt, were on the VM and went with it.
The job is launched from the run's frozen spec (runs/N/spec.json), never a newly composed one, so its
task points at the same folder (compile.bucket_run_url: the run's number and unique id).
"""

from __future__ import annotations

import sys

from ...errors import MlwsError
from .artifacts import in_bucket
from .compile import bucket_run_url


def has_bucket(record: dict) -> None:
    """A run's folder in compute.bucket can carry on; without one, why not (one line)."""
    run_id = record["id"]
    if not ((record.get("config") or {}).get("compute") or {}).get("bucket"):
        raise MlwsError(
            f"run {run_id} ran on SkyPilot without compute.bucket: its run directory and last.ckpt were on "
            "the VM and went with it; set compute.bucket (e.g. compute.bucket=s3://BUCKET/mlws) for cloud "
            f"runs that can resume (mlws rerun {run_id} starts this one again)"
        )


def last_checkpoint(run_url: str) -> str | None:
    """RUN_URL/checkpoints/last.ckpt where the bucket holds it (its SDK asked, never a cloud CLI)."""
    url = f"{run_url}/checkpoints/last.ckpt"
    return url if in_bucket(url) else None


def not_still_running(record: dict, handle: dict | None) -> None:
    """Refuse while SkyPilot still runs (or recovers) the run's job: two jobs would write one folder.
    A job SkyPilot cannot report on is said, not refused (its table may have been cleaned)."""
    from . import client

    if not handle:
        return
    try:
        state = client.job_status(handle)
    except client.ClusterGone:
        return
    except MlwsError as e:
        print(f"warning: run {record['id']}: {e}; launching it again", file=sys.stderr)
        return
    if state == "running":
        raise MlwsError(
            f"run {record['id']}'s SkyPilot job {handle.get('job_id')} is still running: "
            f"nothing to resume (mlws stop {record['id']} stops it)"
        )


def same_folder(record: dict, spec, run_url: str) -> None:
    """The frozen spec must launch into the folder that holds last.ckpt, as run N."""
    bucket = (spec.config.get("compute") or {}).get("bucket")
    target = bucket_run_url(bucket, spec) if bucket else None
    if spec.run_id != record["id"] or target != run_url:
        raise MlwsError(
            f"run {record['id']}'s spec.json launches run {spec.run_id} into {target}, not its run folder "
            f"{run_url}: it cannot carry on there"
        )


def set_aside_outcome(run_url: str) -> None:
    """The earlier job's result.json would be read as the new job's outcome if that ended before its
    worker wrote one (a failed setup, a cancel): replaced by one that is no outcome, keeping the old."""
    import json
    import tempfile
    from pathlib import Path

    from .artifacts import NotInBucket, copy_from_bucket, upload_to_bucket

    with tempfile.TemporaryDirectory(prefix="mlws-resume-") as tmp:
        path = Path(tmp) / "result.json"
        try:
            copy_from_bucket(run_url, "result.json", path)
            earlier = json.loads(path.read_text())
        except (NotInBucket, ValueError):
            earlier = None
        path.write_text(json.dumps({"status": "resumed", "earlier": earlier}, indent=2))
        upload_to_bucket(path, f"{run_url}/result.json")
