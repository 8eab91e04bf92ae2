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


TOLERANCE = 1e-5  # the largest |Δ| between two weights still called "equal within tolerance" (float32)


def compare_weights(a, b, *, tolerance: float = TOLERANCE) -> dict:
    """Two runs' final weights (their last.safetensors): {identical, max_abs_diff, within, tensors}.
    Bit-identical is the promise on CPU; on a GPU, where some kernels are not deterministic (or the
    hardware differs), the largest difference says how far apart they ended."""
    import hashlib
    from pathlib import Path

    from safetensors.numpy import load_file

    pa, pb = Path(a), Path(b)
    if not pa.is_file() or not pb.is_file():
        return {"identical": None, "reason": f"no final weights to compare ({pa if not pa.is_file() else pb})"}
    if hashlib.sha256(pa.read_bytes()).digest() == hashlib.sha256(pb.read_bytes()).digest():
        return {"identical": True, "max_abs_diff": 0.0, "within": True, "tolerance": tolerance}
    x, y = load_file(str(pa)), load_file(str(pb))
    if set(x) != set(y) or any(x[k].shape != y[k].shape for k in x):
        return {"identical": False, "max_abs_diff": None, "within": False, "tolerance": tolerance}
    import numpy as np

    diff = max(
        (float(np.max(np.abs(x[k].astype(np.float64) - y[k].astype(np.float64)))) for k in x if x[k].size), default=0.0
    )
    return {"identical": False, "max_abs_diff": diff, "within": diff <= tolerance, "tolerance": tolerance}
