"""`save_last` keeps last.ckpt where the run got to, at every epoch's save point.

Lightning (2.6) writes last.ckpt only in a step that also saved a top-k file, so with `save_top_k: 1`
an epoch that did not improve leaves last.ckpt (and its weights) at the best epoch: `mlws resume`
went back to it and the run's "last weights" were the best ones. After the hook Lightning saves at,
a step where nothing was saved gets its last.ckpt."""

from __future__ import annotations

import functools


def keep_last_current(checkpoint_callback) -> None:
    """Make this ModelCheckpoint (with save_last) write last.ckpt at each of its save points."""
    cb = checkpoint_callback
    if not getattr(cb, "save_last", None) or not hasattr(cb, "_save_last_checkpoint"):
        return
    cb.on_train_epoch_end = _then_last(cb, cb.on_train_epoch_end, at_train_epoch_end=True)
    cb.on_validation_end = _then_last(cb, cb.on_validation_end, at_train_epoch_end=False)


def _then_last(cb, hook, *, at_train_epoch_end: bool):
    @functools.wraps(hook)
    def run(trainer, pl_module):
        hook(trainer, pl_module)
        # where Lightning itself saves (train epoch end or validation end), when it saved nothing here
        if cb._should_save_on_train_epoch_end(trainer) == at_train_epoch_end and not cb._should_skip_saving_checkpoint(
            trainer
        ):
            cb._save_last_checkpoint(trainer, cb._monitor_candidates(trainer))

    return run
