"""Ray: runs as Ray jobs on an existing cluster (or a local head started on demand), and
multi-worker DDP through Ray Train. Only the functions that need it import ray."""

from .backend import RayBackend

__all__ = ["RayBackend"]
