"""A checkpoint is written whole or not at all, even when the run is stopped right then.

A stop (Ctrl-C, `mlws stop`) raises KeyboardInterrupt wherever Python is. Inside ModelCheckpoint's
hooks that can land after Lightning named the new best file but before it (or its safetensors
sidecar) was written, so the run recorded a best checkpoint that does not exist. While a hook runs,
SIGINT and SIGTERM are held and delivered, to the handlers that were in place, once it returns."""

from __future__ import annotations

import functools
import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# ModelCheckpoint's hooks that save (and remove the file they replace)
SAVING_HOOKS = ("on_train_batch_end", "on_train_epoch_end", "on_validation_end")


@contextmanager
def holding_stop_signals():
    """SIGINT/SIGTERM received inside are delivered on the way out (outside the main thread, where
    Python runs no handlers, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: held.append(signum)) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(held):  # once each, in the order they came
            signal.raise_signal(sig)


def save_uninterrupted(checkpoint_callback) -> None:
    """Run this callback's saving hooks with stop signals held."""
    for name in SAVING_HOOKS:
        hook = getattr(checkpoint_callback, name, None)
        if hook is not None:
            setattr(checkpoint_callback, name, _held(hook))


def _held(hook):
    @functools.wraps(hook)
    def run(*args, **kwargs):
        with holding_stop_signals():
            return hook(*args, **kwargs)

    return run
