"""A stop that arrives while a checkpoint is being saved is held until the save is whole."""

import os
import signal

import pytest

from mlws.training.uninterrupted import holding_stop_signals, save_uninterrupted


@pytest.fixture
def recorded():
    got: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: got.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    yield got
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def test_a_signal_inside_is_delivered_once_on_the_way_out(recorded):
    with holding_stop_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        assert recorded == []  # held while inside
    assert recorded == [signal.SIGTERM]


def test_a_stop_raised_by_the_handler_comes_after_the_save():
    def stop(signum, frame):
        raise KeyboardInterrupt

    class Checkpoint:
        saved: list[str] = []

        def on_validation_end(self, trainer, module):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between naming the best file and writing it
            self.saved.append("best.ckpt")

    previous = signal.signal(signal.SIGINT, stop)
    try:
        cb = Checkpoint()
        save_uninterrupted(cb)
        with pytest.raises(KeyboardInterrupt):
            cb.on_validation_end(None, None)
        assert cb.saved == ["best.ckpt"]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_handlers_in_place_before_are_restored(recorded):
    before = signal.getsignal(signal.SIGTERM)
    with holding_stop_signals():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
