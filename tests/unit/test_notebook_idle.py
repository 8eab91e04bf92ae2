"""The idle policy's decision as a pure function (the real server is tested in tests/e2e/test_notebook.py)."""

import pytest

from mlws.jupyter.idle import decide

NOW, STARTED, LIMIT = 10_000.0, 1_000.0, 600.0


@pytest.mark.parametrize(
    "kernels, terminals, runs, saved, active, reason",
    [
        ([], [], [], None, False, None),  # nothing, long ago
        ([{"name": "k1", "state": "busy", "last_activity": 1_500.0}], [], [], None, True, "is busy"),  # a long cell
        ([{"name": "k1", "state": "idle", "last_activity": NOW - 60}], [], [], None, True, "60 s ago"),
        ([{"name": "k1", "state": "idle", "last_activity": NOW - 900}], [], [], None, False, None),
        ([], [{"name": "terminal 1", "state": "busy", "last_activity": 1_200.0}], [], None, True, "running a command"),
        ([], [{"name": "terminal 1", "state": "idle", "last_activity": NOW - 5}], [], None, True, "5 s ago"),
        ([], [], [7], None, True, "mlws run 7 is training"),  # %mlws train --detach
        ([], [], [], NOW - 30, True, "30 s ago"),  # a file was saved
    ],
)
def test_what_counts_as_activity(kernels, terminals, runs, saved, active, reason):
    verdict = decide(NOW, STARTED, LIMIT, kernels, terminals, runs, saved)
    assert verdict["active"] is active and verdict["stop"] is (not active)
    if reason:
        assert any(reason in r for r in verdict["reasons"]), verdict


def test_zero_means_never_stop():
    assert decide(NOW, STARTED, 0, [], [])["stop"] is False
