"""Run directories kept in a bucket (compute.bucket), copied back with the cloud's own sync tool
as SkyPilot knows it. Not exercised here: there is no bucket or cloud on the test machines."""
from __future__ import annotations

import shlex
import subprocess

from ...errors import MlwsError


def copy_from_bucket(run_url: str, path: str, dest) -> dict:
    from sky import cloud_stores
    source = f"{run_url}/{path.lstrip('/')}"
    try:
        store = cloud_stores.get_storage_from_path(source)
        # the command runs in a shell: a destination with spaces or `;` must stay one argument
        command = (store.make_sync_dir_command(source, shlex.quote(str(dest))) if source.endswith("/")
                   else store.make_sync_file_command(source, shlex.quote(str(dest))))
    except Exception as e:
        raise MlwsError(f"cannot copy from {source}: {e}") from None
    done = subprocess.run(command, shell=True)
    if done.returncode != 0:
        raise MlwsError(f"copying {source} failed (exit {done.returncode})")
    return {"files": -1, "bytes": 0, "dest": str(dest)}
