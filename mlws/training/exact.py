"""`mlws rerun --exact`'s side in the worker: deterministic algorithms, and the run's own code first.

The command (mlws/ops/exact.py) checks out the run's commit and patch in a git worktree and starts the
worker with MLWS_EXACT=1 and MLWS_CODE_DIR=that worktree, in its environment (a local run's worker is
this process or its child). Workers of every run already seed Python, NumPy, torch and each data
loader worker from the config's `seed` (Lightning's seed_everything(workers=True)).
"""

from __future__ import annotations

import os
import sys

EXACT = "MLWS_EXACT"
CODE_DIR = "MLWS_CODE_DIR"


def is_exact() -> bool:
    return os.environ.get(EXACT) == "1"


def use_run_code() -> str | None:
    """Put the run's checked-out code first on sys.path (its modules shadow the workspace's)."""
    code = os.environ.get(CODE_DIR)
    if code and code not in sys.path:
        sys.path.insert(0, code)
    return code


def trainer_arguments() -> dict:
    """Deterministic algorithms for an exact rerun: torch raises where an operation has none (some
    CUDA kernels), rather than giving other weights silently. Nothing for other runs."""
    if not is_exact():
        return {}
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS's deterministic workspace
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    return {"deterministic": True}
