"""Composing many experiments on every core: Hydra composes one config at a time (~70 ms each).

Workers are forked after safe.harden(), so each inherits the hardened interpreter (sys.path,
resolvers) and imports nothing new from the checkout.
"""

from __future__ import annotations

import os
from collections.abc import Callable

MIN_PER_WORKER = 8  # fewer than this: a worker costs more than it saves


def workers_for(n: int, share: int = 1) -> int:
    """How many processes for n experiments, when `share` such jobs run side by side."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores // max(1, share), n // MIN_PER_WORKER))


def map_in_chunks(
    fn: Callable[[list[str]], list],
    names: list[str],
    workers: int,
    *,
    isolated: bool = False,
    initializer: Callable | None = None,
    initargs: tuple = (),
) -> list:
    """fn(chunk) over contiguous chunks of names, in forked workers; results in names' order.
    `isolated`: always in forked workers, even one, each set up by `initializer` first, so whatever
    it changes (a hardened interpreter, a memory cap) never touches the calling process."""
    if workers <= 1 and not isolated:
        return fn(names)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(names) // max(1, workers)) if names else 1
    chunks = [names[i : i + size] for i in range(0, len(names), size)] or [[]]
    with ProcessPoolExecutor(
        max_workers=len(chunks),
        mp_context=multiprocessing.get_context("fork"),
        initializer=initializer,
        initargs=initargs,
    ) as pool:
        return [item for part in pool.map(fn, chunks) for item in part]
