"""One experiment's review, bounded: a branch's file fails alone, with one line, whatever it does
to the composer (keeps it busy, grows its memory, resolves to a huge config, raises anything), and
the whole review ends in bounded time with a result for every experiment."""

from __future__ import annotations

import time
from contextlib import contextmanager

from ..errors import MlwsError

COMPOSE_SECONDS = 15  # one experiment; the example ones take well under a second
REVIEW_SECONDS = 300  # every experiment one process reviews
MAX_CONFIG_CHARS = 1_000_000  # an effective config's size (the examples' are ~2,000)
MEMORY_HEADROOM = 3 * 2**30  # address space beyond what the process already holds


class Budget:
    """The time left to one process's review."""

    def __init__(self, seconds: float = REVIEW_SECONDS):
        self.ends = time.monotonic() + seconds
        self.seconds = seconds

    def left(self) -> float:
        return self.ends - time.monotonic()


def limit_memory(headroom: int = MEMORY_HEADROOM) -> None:
    """Cap this process's address space (and its forked workers') at what it holds plus headroom:
    a config that grows past it raises MemoryError in that experiment instead of taking the machine."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            held = int(f.read().split()[0]) * resource.getpagesize()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = held + headroom
        if hard == resource.RLIM_INFINITY or want <= hard:
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (OSError, ValueError, ImportError):  # not Linux: the time limits still hold
        pass


def reviewed(name: str, budget: Budget, compose):
    """compose()'s config, or MlwsError with one line naming the file and what went wrong."""
    if budget.left() <= 0:
        raise MlwsError(f"not reviewed: the review's {budget.seconds:.0f} s ran out before {name}.yaml")
    try:
        with time_limit(name, min(COMPOSE_SECONDS, budget.left())):
            config = compose()
    except MlwsError:
        raise
    except MemoryError:
        raise MlwsError(f"{name}.yaml needs over {MEMORY_HEADROOM // 2**30} GB to compose; not reviewed") from None
    except RecursionError:
        raise MlwsError(f"{name}.yaml nests too deep to compose; not reviewed") from None
    except Exception as e:  # a branch's file must not end the review with a traceback
        first = (str(e).strip().splitlines() or [""])[0][:300]
        raise MlwsError(f"{name}.yaml cannot be composed: {type(e).__name__}: {first}") from None
    if _larger_than(config, MAX_CONFIG_CHARS):
        raise MlwsError(f"{name}.yaml's effective config expands to over {MAX_CONFIG_CHARS:,} characters; not reviewed")
    return config


@contextmanager
def time_limit(name: str, seconds: float = COMPOSE_SECONDS):
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(*_):
        raise MlwsError(f"{name}.yaml took over {seconds:.0f} s to compose; not reviewed")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _larger_than(value, limit: int) -> bool:
    """Pure: whether value's keys and scalars add up to more than limit characters (stops early)."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            total += len(item) if isinstance(item, str) else 8
        if total > limit:
            return True
    return False
