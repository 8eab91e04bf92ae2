"""mlws rerun --exact RUN: the run again with its own code, packages and data, deterministically.

- the run's commit with its uncommitted patch applied, in a clean `git worktree` under
  .mlws/exact/ (the new run imports its modules from there first: mlws/training/exact.py);
- the same package versions as recorded (refused, naming the packages that differ);
- the same data (refused when the data's fingerprint changed);
- deterministic algorithms (torch.use_deterministic_algorithms, Lightning's deterministic=True) on
  top of what every run does: Python, NumPy, torch and each data loader worker seeded from `seed`.
On CPU the final weights are then bit-identical to the original's; docs/reproducibility.md says what
is and is not promised on a GPU. A refused rerun records nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MlwsError
from .session import session, workspace_of


def version_differences(recorded: dict, now: dict) -> list[str]:
    """`torch 2.4.0 → 2.13.0` for each recorded package whose version is not the one installed now."""
    return [
        f"{name} {then} → {now.get(name) or 'not installed'}"
        for name, then in sorted((recorded or {}).items())
        if now.get(name) != then
    ]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120)


def checkout(ws, old: Mapping[str, Any]) -> Path:
    """The run's commit and patch in a fresh worktree; an MlwsError (nothing left behind) otherwise."""
    import uuid

    run_id, commit = old["id"], (old.get("git") or {}).get("commit")
    if not commit:
        raise MlwsError(
            f"run {run_id} was not recorded in a git repository: its code cannot be checked out "
            "for --exact (mlws rerun without --exact runs the workspace's code)"
        )
    dest = ws.state_dir / "exact" / f"run-{run_id}-{uuid.uuid4().hex[:8]}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    added = _git(ws.root, "worktree", "add", "--detach", "--quiet", str(dest), commit)
    if added.returncode != 0:
        raise MlwsError(f"cannot check out run {run_id}'s commit {commit[:10]}: {added.stderr.strip()[:300]}")
    patch = old.get("git_patch") or ""
    if patch:
        applied = subprocess.run(
            ["git", "-C", str(dest), "apply", "--binary", "--whitespace=nowarn", "-"],
            input=patch,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if applied.returncode != 0:
            remove(ws, dest)
            raise MlwsError(
                f"run {run_id}'s uncommitted patch does not apply to {commit[:10]}: {applied.stderr.strip()[:300]}"
            )
    return dest


def remove(ws, dest: Path) -> None:
    if _git(ws.root, "worktree", "remove", "--force", str(dest)).returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        _git(ws.root, "worktree", "prune")


def rerun_exact(run_id: int, *, detach: bool = False, workspace=None) -> tuple[dict, list[str]]:
    """Check, check out, and run; returns (the new run's record, warnings)."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from ..provenance import package_versions
    from ..spec import RunSpec
    from ..training.exact import CODE_DIR, EXACT
    from ..training.fingerprint import changed, data_fingerprint
    from .runs import launch

    ws = workspace_of(workspace)
    old = session(ws).registry.get(int(run_id))
    if old["status"] == "running":
        raise MlwsError(f"run {run_id} is still running: rerun --exact compares with its final weights")
    differ = version_differences(old.get("versions") or {}, package_versions())
    if differ:
        raise MlwsError(
            f"rerun --exact: package versions differ from run {run_id}'s: "
            + ", ".join(differ)
            + " (install those versions, or mlws rerun without --exact)"
        )
    warnings = []
    untracked = (old.get("git") or {}).get("untracked") or []
    code = checkout(ws, old)
    try:
        for name in untracked:  # not in the record: the workspace's copy, said by name
            source = ws.root / name
            if source.is_file():
                (code / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, code / name)
        if untracked:
            warnings.append(
                f"run {run_id} had untracked files, not in its record; the workspace's copies are "
                f"used: {', '.join(untracked[:5])}" + (" …" if len(untracked) > 5 else "")
            )
        sys.path.insert(0, str(code))  # the data module's own code fingerprints the data
        try:
            recorded = (old.get("artifacts") or {}).get("data")
            now = data_fingerprint((old.get("config") or {}).get("data"), ws.root)
        finally:
            sys.path.remove(str(code))
        line = changed(recorded, now)
        if line:
            raise MlwsError(f"rerun --exact: {line} since run {run_id}; the weights could not be the same")
        if not (recorded or {}).get("digest"):
            warnings.append(
                f"run {run_id}'s data was {(recorded or {}).get('reason') or 'not fingerprinted'}: "
                "that it is the same data is not checked"
            )
    except BaseException:
        remove(ws, code)
        raise
    spec = RunSpec(
        experiment=old["experiment"],
        overrides=tuple(old["overrides"]),
        config=old["config"],
        workspace=str(ws.root),
        command=f"mlws rerun --exact {run_id}",
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        git={k: v for k, v in (old.get("git") or {}).items()},
        versions=package_versions(),
        builds_on=old.get("builds_on"),
    )
    spec = replace(spec, labels=(), note=f"exact rerun of run {run_id}")
    saved = {k: os.environ.get(k) for k in (EXACT, CODE_DIR)}
    os.environ.update({EXACT: "1", CODE_DIR: str(code)})  # for the worker: this process, or its child
    try:
        record = launch(ws, spec, old.get("git_patch") or "", detach=detach, note=spec.note, rerun_of=int(run_id))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if not detach:  # a background run still reads its code from there
            remove(ws, code)
    if not detach and record.get("status") == "succeeded":
        check = weights_check(ws, old, record)
        record = session(ws).registry.get(int(record["id"])) | {"message": record.get("message")}
        if check.get("identical") is False:
            warnings.append(check["line"])
    return record, warnings


def weights_check(ws, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict:
    """Compare the rerun's final weights with the original's and record it (artifacts.exact): bit for
    bit on CPU; elsewhere the largest difference, and whether it is within the tolerance."""
    from ..training.exact import compare_weights

    def weights(record: Mapping[str, Any]) -> Path:
        return Path(record.get("run_dir") or "") / "checkpoints" / "last.safetensors"

    check = compare_weights(weights(old), weights(new))
    if check.get("identical") is False:
        diff = check.get("max_abs_diff")
        check["line"] = (
            f"the final weights differ from run {old['id']}'s: "
            + ("their tensors differ in names or shapes" if diff is None else f"the largest difference is {diff:.3g}")
            + (
                f", within the tolerance {check['tolerance']:g} (a GPU's non-deterministic kernels or other hardware"
                ": docs/reproducibility.md)"
                if check.get("within")
                else f", beyond the tolerance {check['tolerance']:g}"
            )
        )
    session(ws).registry.update(int(new["id"]), artifacts={"exact": {"of": int(old["id"]), **check}})
    return check
