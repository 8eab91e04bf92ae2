"""Multi-node training from SkyPilot's node variables, for Lightning's DDP.

SkyPilot starts the same command on every node with SKYPILOT_NODE_RANK, SKYPILOT_NODE_IPS (one per
line, head first) and SKYPILOT_NUM_GPUS_PER_NODE. Lightning's default cluster environment reads
MASTER_ADDR, MASTER_PORT and NODE_RANK; it starts one process per device on each node itself.
"""
from __future__ import annotations

import os

DEFAULT_PORT = 29500


def trainer_overrides(environ=os.environ) -> dict:
    """Trainer kwargs (and env vars set) for a multi-node run; {} on a single node."""
    ips = [ip for ip in environ.get("SKYPILOT_NODE_IPS", "").split() if ip]
    if len(ips) < 2:
        return {}
    gpus = int(environ.get("SKYPILOT_NUM_GPUS_PER_NODE") or 0)
    os.environ["MASTER_ADDR"] = ips[0]
    os.environ.setdefault("MASTER_PORT", str(environ.get("MLWS_MASTER_PORT", DEFAULT_PORT)))
    os.environ["NODE_RANK"] = environ.get("SKYPILOT_NODE_RANK", "0")
    return {"num_nodes": len(ips), "devices": gpus or 1, "accelerator": "gpu" if gpus else "cpu",
            "strategy": "ddp"}  # Lightning picks NCCL on GPUs and gloo on CPUs
