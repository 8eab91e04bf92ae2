"""Plan time (issue 24): the pieces a cloud plan runs beside SkyPilot's work, and the collector paused
around SkyPilot's import and optimizer (mlws/compute/sky/preflight.py, skypilot.py)."""

import gc
import threading

import pytest

from mlws.compute.sky.preflight import _in_background
from mlws.compute.sky.skypilot import gc_paused


def test_a_background_call_hands_back_its_result_or_its_error():
    started = threading.Event()

    def work(x):
        started.set()
        return x * 2

    result = _in_background(work, 21)
    assert started.wait(5) and result() == 42

    def fail():
        raise ValueError("index down")

    with pytest.raises(ValueError, match="index down"):
        _in_background(fail)()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_inside_and_left_as_it_was_after(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), gc_paused():
            raise RuntimeError("SkyPilot failed")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_what_skypilots_import_allocated_is_frozen_and_nothing_else(monkeypatch):
    import sys
    import types

    monkeypatch.delitem(sys.modules, "sky", raising=False)
    frozen = gc.get_freeze_count()
    try:
        with gc_paused():
            kept = [[] for _ in range(10)]  # SkyPilot not imported inside: nothing frozen
        assert gc.get_freeze_count() == frozen
        with gc_paused():
            monkeypatch.setitem(sys.modules, "sky", types.ModuleType("sky"))  # as `import sky` leaves it
            kept += [[] for _ in range(10)]
        after_import = gc.get_freeze_count()
        assert after_import >= frozen + 10
        with gc_paused():  # SkyPilot already imported: a later plan's objects stay collectable
            kept += [[] for _ in range(10)]
        assert gc.get_freeze_count() == after_import
    finally:
        gc.unfreeze()
