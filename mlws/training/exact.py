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
    from pathlib import Path

    pa, pb = Path(a), Path(b)
    if not pa.is_file() or not pb.is_file():
        return {"identical": None, "reason": f"no final weights to compare ({pa if not pa.is_file() else pb})"}
    if pa.read_bytes() == pb.read_bytes():
        return {"identical": True, "max_abs_diff": 0.0, "within": True, "tolerance": tolerance}
    x, y = _tensors(pa), _tensors(pb)
    if set(x) != set(y) or any(x[k].shape != y[k].shape for k in x):
        return {"identical": False, "max_abs_diff": None, "within": False, "tolerance": tolerance}
    import numpy as np

    diff = max((float(np.max(np.abs(x[k] - y[k]))) for k in x if x[k].size), default=0.0)
    return {"identical": False, "max_abs_diff": diff, "within": diff <= tolerance, "tolerance": tolerance}


_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1"}


def _tensors(path) -> dict:
    """A .safetensors file's tensors as float64 arrays, read from its documented layout (an 8-byte
    header length, a JSON header of dtype, shape and byte offsets, then the data)."""
    import json
    import struct

    import numpy as np

    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header, body = json.loads(raw[8 : 8 + size]), raw[8 + size :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if info["dtype"] == "BF16":  # the high half of a float32
            bits = np.frombuffer(body[start:end], dtype="<u2").astype(np.uint32) << 16
            values = bits.view(np.float32)
        elif info["dtype"] == "BOOL":
            values = np.frombuffer(body[start:end], dtype=np.bool_)
        else:
            values = np.frombuffer(body[start:end], dtype=_DTYPES[info["dtype"]])
        out[name] = values.astype(np.float64).reshape(info["shape"])
    return out
