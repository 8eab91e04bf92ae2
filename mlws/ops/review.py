"""Review: experiments checked and compared like code (no registry, no network, nothing run)."""

from __future__ import annotations

from .session import workspace_of


def check(experiments=None, *, workspace=None) -> list[dict]:
    """Compose, validate and plan each experiment file, safely on an untrusted checkout:
    [{experiment, file, ok, error, compute, notes}]. Nothing runs, nothing is recorded."""
    from ..review.check import check_experiments

    return check_experiments(workspace_of(workspace), list(experiments or []) or None)


def diff_git(ref: str, *, results: bool = False, workspace=None) -> dict:
    """Every experiment whose effective config differs between git `ref` and the working tree;
    `results`: with each step's recorded results from the registry (mean ± sd, CI in the comment)."""
    from ..review.branch_diff import diff_against

    ws = workspace_of(workspace)
    if not results:
        return diff_against(ws, ref)
    from .session import session

    return diff_against(ws, ref, registry=session(ws).registry)


OWN_CODE_WARNING = (
    "warning: this mlws is imported from inside the checkout it reviews (an editable "
    "install), so a branch's own mlws/ code runs; review a branch with mlws installed from the "
    "base branch instead: pip install <base checkout> (not -e), or a wheel"
)


def own_code_warning(*, workspace=None) -> str | None:
    """A line to show when the running mlws comes from the checkout under review, else None."""
    import subprocess
    from pathlib import Path

    from ..review.safe import runs_code_from

    root = workspace_of(workspace).root
    top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    return OWN_CODE_WARNING if runs_code_from(Path(top.stdout.strip()) if top.returncode == 0 else root) else None
