"""Composing many experiments on every core: Hydra composes one config at a time (~70 ms each).

Workers are forked after safe.harden(), so each inherits the hardened interpreter (sys.path,
resolvers) and imports nothing new from the checkout.
"""
from __future__ import annotations

import os
from typing import Callable

MIN_PER_WORKER = 8  # fewer than this: a worker costs more than it saves


def workers_for(n: int, share: int = 1) -> int:
    """How many processes for n experiments, when `share` such jobs run side by side."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores // max(1, share), n // MIN_PER_WORKER))


def map_in_chunks(fn: Callable[[list[str]], list], names: list[str], workers: int) -> list:
    """fn(chunk) over contiguous chunks of names, in forked workers; results in names' order."""
    if workers <= 1:
        return fn(names)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    size = -(-len(names) // workers)
    chunks = [names[i:i + size] for i in range(0, len(names), size)]
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=multiprocessing.get_context("fork")) as pool:
        return [item for part in pool.map(fn, chunks) for item in part]
