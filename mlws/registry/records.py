"""The shapes the registry hands out: a run as `get` and `list` return it (`RunRecord`), and what the
worker and the ops layer need of a registry (`RunStore`), so another store (a fake in a test, a
node's result file) can stand in where only these are used.

A record is a plain dict at run time (the JSON that `mlws show --json` prints); these types only let
a type checker see its keys. tests/unit/test_registry_records.py holds RunRecord to the table's columns.
"""

from __future__ import annotations

import builtins  # RunStore.list shadows `list` in its own annotations
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

Status = Literal["running", "succeeded", "failed", "stopped"]


class Monitor(TypedDict):
    """The run's monitor.metric/mode/loss, copied from its config when it was recorded."""

    metric: str | None
    mode: str | None
    loss: str | None


class RunRecord(TypedDict, total=False):
    """One run of the runs table, JSON columns decoded. `list` leaves out config and git_patch unless
    asked (full=True, with_config=True), hence total=False; `get` returns every key."""

    id: int
    experiment: str | None
    builds_on: str | None  # the experiment it layers on
    parent_id: int | None  # the run it was compared against when it started (lineage)
    rerun_of: int | None
    overrides: list[str]
    config: dict[str, Any]  # the resolved, frozen config (RunSpec.config)
    command: str | None
    git: dict[str, Any]  # commit, branch, dirty
    git_patch: str | None  # the uncommitted changes, as a patch
    versions: dict[str, Any]  # python, torch, lightning, mlws, ...
    backend: str  # the compute backend's name (Backend.name)
    status: Status | str
    created_at: str
    started_at: str | None
    ended_at: str | None
    metrics: dict[str, Any]
    artifacts: dict[str, Any]  # the backend's handle and what the run recorded (checkpoints, cost, ...)
    run_dir: str | None
    error: str | None
    stop_reason: str | None
    host: str | None
    pid: int | None
    pid_started: float | None
    labels: list[str]
    note: str
    sweep_id: int | None
    trial_key: str | None
    trial_index: int | None
    study_trial: int | None
    monitor: Monitor


@runtime_checkable
class RunStore(Protocol):
    """What recording and following a run needs of a registry (mlws.registry.Registry is one)."""

    def create(
        self,
        spec: Any,
        git_patch: str,
        backend: str,
        run_dir_for: Callable[[int], str],
        *,
        labels: Sequence[str] = (),
        note: str = "",
        builds_on: str | None = None,
        parent_id: int | None = None,
        rerun_of: int | None = None,
        trial: dict | None = None,
    ) -> int: ...

    def set_owner(self, run_id: int, pid: int) -> None: ...

    def finish(
        self,
        run_id: int,
        status: str,
        metrics: dict | None = None,
        artifacts: dict | None = None,
        error: str | None = None,
        stop_reason: str | None = None,
    ) -> None: ...

    def update(self, run_id: int, *, artifacts: dict | None = None, **fields: Any) -> None: ...

    def get(self, run_id: int) -> RunRecord: ...

    def exists(self, run_id: int) -> bool: ...

    def list(
        self,
        *,
        experiment: str | None = None,
        status: str | None = None,
        label: str | None = None,
        search: str | None = None,
        ids: builtins.list[int] | None = None,
        full: bool = False,
        newest: int | None = None,
        with_config: bool = False,
        sweep_id: int | None = None,
    ) -> builtins.list[RunRecord]: ...
