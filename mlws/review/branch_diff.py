"""`mlws diff --git REF`: which experiments' effective configs this branch changes, and how.

Each side is composed in its own process: REF from its files written out of git into a temporary
folder, the branch from the working tree. Only experiments whose effective config (or whose
ability to compose) differs are listed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import MlwsError
from ..history.diff import config_diff
from ..workspace import Workspace
from . import gitref
from .check import split_problems
from .sandbox import private_copy, refuse_unsafe

SNAPSHOT_TIMEOUT_S = 600


def diff_against(ws: Workspace, ref: str, registry=None) -> dict:
    """The diff result; with a registry, each step's recorded results too (results.py)."""
    top = gitref.toplevel(ws.root)
    rel = "" if ws.root.resolve() == top else str(ws.root.resolve().relative_to(top))
    commit = gitref.resolve(top, ref)
    uncommitted = gitref.uncommitted(top, rel)
    files = gitref.changed_files(top, commit, rel)
    renames = gitref.renamed_experiments(top, commit, rel)
    with tempfile.TemporaryDirectory(prefix="mlws-diff-") as tmp:
        # both sides from private copies of regular files (sandbox.py), never the checkout itself
        ref_root = gitref.materialise(top, commit, rel, Path(tmp) / "ref")
        ref_refused = split_problems(refuse_unsafe(ref_root))
        work_root = Path(tmp) / "work"
        work_refused = split_problems(private_copy(ws.root, work_root))
        before, after = snapshots([ref_root, work_root], Path(tmp))
    if "error" in after:
        raise MlwsError(f"the working tree has no mlws workspace: {after['error']}")
    notes = []
    if "error" in before:
        notes.append(f"{ref} has no mlws workspace here ({before['error']}): every experiment is new")
    notes += [f"{ref}: {file}: {reason}" for file, reason in ref_refused.items() if not _experiment(file)]
    notes += [f"working tree: {file}: {reason}" for file, reason in work_refused.items() if not _experiment(file)]
    before_exps = {**before.get("experiments", {}), **_refused_experiments(ref_refused)}
    after_exps = {**after.get("experiments", {}), **_refused_experiments(work_refused)}
    result = {
        "ref": ref,
        "commit": commit,
        "compared_with": "working tree",
        "uncommitted": uncommitted,
        "files": files,
        "notes": notes,
        **compare(before_exps, after_exps, renames),
    }
    if registry is not None:
        from .results import attach

        attach(result, registry, str(ws.root.resolve()), before_exps, after_exps)
    return result


def _experiment(file: str) -> str | None:
    return Path(file).stem if file.startswith("experiments/") and file.endswith(".yaml") else None


def _refused_experiments(refused: dict) -> dict:
    """A refused experiment file is still there: it fails, with the reason."""
    return {
        _experiment(f): {"config": None, "error": reason, "builds_on": None}
        for f, reason in refused.items()
        if _experiment(f)
    }


def snapshots(roots: list[Path], tmp: Path) -> list[dict]:
    """Every experiment's effective config under each root, one fresh process per root, in parallel."""
    import os

    # Only the folder the running mlws comes from is importable there (not PYTHONPATH's checkout).
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = []
    for i, root in enumerate(roots):
        out = tmp / f"side-{i}.json"
        # -P: the folder it runs in is not importable; safe.harden() removes the checkout itself.
        cmd = [sys.executable, "-P", "-m", "mlws.review.snapshot", str(root), str(out)]
        procs.append((subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), out))
    deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
    results = []
    try:
        for proc, out in procs:
            _, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            if proc.returncode != 0 or not out.is_file():
                tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise MlwsError(f"composing the experiments failed: {tail[0]}")
            results.append(json.loads(out.read_text()))
    except subprocess.TimeoutExpired:
        raise MlwsError(f"composing the experiments took longer than {SNAPSHOT_TIMEOUT_S} s") from None
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def compare(before: dict, after: dict, renames: dict[str, str] | None = None) -> dict:
    """Pure: {experiments: [entry per differing experiment], unchanged: [names]}.

    before/after: {name: {"config": dict | None, "error": str | None}}; renames: {new: old}.
    Entry statuses: changed, added, deleted, renamed, broken (composed at REF, fails now),
    fixed (failed at REF, composes now), failing (fails on both sides, differently).
    """
    renames = {new: old for new, old in (renames or {}).items() if new in after and old in before and new not in before}
    entries, unchanged = [], []
    for name in sorted(after.keys() | before.keys()):
        if name in renames.values() and name not in after:
            continue  # shown under its new name
        old_name = renames.get(name, name)
        a, b = before.get(old_name), after.get(name)
        entry = {
            "experiment": name,
            "status": None,
            "renamed_from": None,
            "builds_on": None,
            "error": None,
            "changed": {},
            "added": {},
            "removed": {},
        }
        if b is None:
            entry["status"] = "deleted"
        elif a is None:
            entry.update(status="added", error=b["error"], **_from_parent(b, after))
        elif b["error"]:
            if a["error"] == b["error"] and old_name == name:
                unchanged.append(name)
                continue
            entry.update(status="failing" if a["error"] else "broken", error=b["error"])
        elif a["error"]:
            entry.update(status="fixed")
        else:
            d = config_diff(a["config"], b["config"])
            if not any(d.values()) and old_name == name:
                unchanged.append(name)
                continue
            entry.update(status="changed", **d)
        if old_name != name:
            entry.update(renamed_from=old_name, status="renamed" if entry["status"] == "changed" else entry["status"])
        entries.append(entry)
    return {"experiments": entries, "unchanged": unchanged, "total": len(after)}


def _from_parent(side: dict, everything: dict) -> dict:
    """A new experiment is shown as what it changes from the experiment it builds on."""
    parent = everything.get(side.get("builds_on") or "")
    if side["error"] or not parent or parent["error"]:
        return {}
    return {"builds_on": side["builds_on"], **config_diff(parent["config"], side["config"])}
