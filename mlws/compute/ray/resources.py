"""What a Ray run reserves, and whether a cluster can ever hold it: pure, shared by the backend
(checked before anything is recorded) and Ray Train (each worker's reservation)."""

from __future__ import annotations


def worker_resources(c: dict) -> dict[str, float]:
    """What one worker reserves (the entrypoint, or each Ray Train worker), from the compute config."""
    gpus = float(c.get("gpus") or 1) if c.get("use_gpu") else 0.0
    return {
        "CPU": float(c.get("cpus") or 1),
        "GPU": gpus,
        "memory": float(c["memory_gb"]) * 1024**3 if c.get("memory_gb") else 0.0,
    }


def placement_problem(per_worker: dict[str, float], workers: int, nodes: list[dict[str, float]]) -> str | None:
    """Why `workers` workers of `per_worker` resources can never be placed on these nodes (None: they can).
    Pure: each worker must fit on one node, and all of them on the cluster (greedily, node by node)."""
    need = {k: v for k, v in per_worker.items() if v}
    shown = {"memory": lambda x: f"{x / 1024**3:.1f} GiB of memory"}
    fmt = lambda key, x: shown[key](x) if key in shown else f"{x:g} {key}s"
    for key, amount in need.items():
        total = sum(n.get(key, 0.0) for n in nodes)
        if amount * workers > total:
            return (
                f"the run asks for {fmt(key, amount * workers)} ({workers} worker(s) × {fmt(key, amount)}) "
                f"but the cluster has {fmt(key, total)}"
            )
    placed = sum(int(min(n.get(k, 0.0) / v for k, v in need.items())) if need else workers for n in nodes)
    if placed < workers:
        return (
            f"no {workers} node slot(s) hold one worker each ({', '.join(fmt(k, v) for k, v in need.items())}); "
            f"the cluster's nodes hold {placed}"
        )
    return None
