"""Multi-node training from SkyPilot's node variables, for Lightning's DDP.

SkyPilot starts the same command on every node with SKYPILOT_NODE_RANK, SKYPILOT_NODE_IPS (one per
line, head first) and SKYPILOT_NUM_GPUS_PER_NODE. Lightning's default cluster environment reads
MASTER_ADDR, MASTER_PORT and NODE_RANK; it starts one process per device on each node itself.
"""

from __future__ import annotations

import os

DEFAULT_PORT = 29500


def trainer_overrides(environ=os.environ) -> dict:
    """Trainer kwargs (and env vars set) for a node: every GPU of every node; {} on a single node
    with at most one GPU (the run's own trainer config applies)."""
    ips = [ip for ip in environ.get("SKYPILOT_NODE_IPS", "").split() if ip]
    gpus = int(environ.get("SKYPILOT_NUM_GPUS_PER_NODE") or 0)
    if len(ips) < 2:
        return {"devices": gpus, "accelerator": "gpu", "strategy": "ddp"} if gpus > 1 else {}
    os.environ["MASTER_ADDR"] = ips[0]
    os.environ.setdefault("MASTER_PORT", str(environ.get("MLWS_MASTER_PORT", DEFAULT_PORT)))
    os.environ["NODE_RANK"] = environ.get("SKYPILOT_NODE_RANK", "0")
    return {
        "num_nodes": len(ips),
        "devices": gpus or 1,
        "accelerator": "gpu" if gpus else "cpu",
        "strategy": "ddp",
    }  # Lightning picks NCCL on GPUs and gloo on CPUs


def check_gpus(environ=os.environ) -> None:
    """GPUs were asked for but torch cannot use them (a CUDA build the driver cannot run, a CPU
    build): stop now, instead of training on the CPU at GPU prices."""
    gpus = int(environ.get("SKYPILOT_NUM_GPUS_PER_NODE") or 0)
    if gpus <= 0:
        return
    import torch

    from ...errors import RunFailed

    if not torch.cuda.is_available() or torch.cuda.device_count() < gpus:
        raise RunFailed(
            f"this node has {gpus} GPU(s) but torch {torch.__version__} (CUDA "
            f"{torch.version.cuda or 'none: a CPU build'}) sees {torch.cuda.device_count()}: "
            "the driver cannot run this build; set compute.torch_index to a matching CUDA build"
        )
