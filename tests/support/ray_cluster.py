"""A real Ray head for tests: `ray start --head --block` on free ports, in the test's own temp dir,
stopped (its whole process group) when the test module ends."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def isolated_ray_env(env: dict) -> dict:
    """No RAY_ADDRESS from the machine: every Ray call names the test's own head."""
    return {k: v for k, v in env.items() if k != "RAY_ADDRESS"}


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """{address, pid, ...} of a head with 4 logical CPUs (two DDP workers plus a run beside them)."""
    from mlws.compute.ray.head import start_head, stop_head

    from .helpers import clean_env

    folder = tmp_path_factory.mktemp("ray-head")
    state = start_head(folder / "head.json", num_cpus=4, env=isolated_ray_env(clean_env(folder)))
    try:
        yield state
    finally:
        stop_head(state)


def head_alive(state: dict) -> bool:
    """Is any process of the head's group still running (zombies awaiting init do not count)?"""
    import psutil

    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(proc.info["pid"]) == state["pid"] and proc.info["status"] != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, PermissionError):
            continue
    return False


def read_state(path: Path) -> dict:
    return json.loads(path.read_text())


def job_client(address: str):
    """Ray's own Jobs client for the test's checks, sending the token when the head uses one."""
    from ray.job_submission import JobSubmissionClient

    from mlws.compute.ray.head import use_token_if_any

    use_token_if_any()
    return JobSubmissionClient(address)
