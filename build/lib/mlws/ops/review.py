"""Review: experiments checked and compared like code (no registry, no network, nothing run)."""
from __future__ import annotations

from .session import workspace_of


def check(experiments=None, *, workspace=None) -> list[dict]:
    """Compose, validate and plan each experiment file, safely on an untrusted checkout:
    [{experiment, file, ok, error, compute, notes}]. Nothing runs, nothing is recorded."""
    from ..review.check import check_experiments
    return check_experiments(workspace_of(workspace), list(experiments or []) or None)


def diff_git(ref: str, *, workspace=None) -> dict:
    """Every experiment whose effective config differs between git `ref` and the working tree."""
    from ..review.branch_diff import diff_against
    return diff_against(workspace_of(workspace), ref)
