"""The sweep budget's decision (mlws/sweeps/budget.py): may one more trial start? Pure."""

from __future__ import annotations

import pytest

from mlws.errors import MlwsError
from mlws.sweeps.budget import GO, STOP, WAIT, check_budget, decide


def test_the_first_trial_starts_and_others_wait_until_one_has_finished():
    assert decide(10.0, [], []).action == GO
    assert decide(10.0, [], [1.0]).action == WAIT  # nothing to go by yet: one at a time


def test_a_trial_starts_while_the_spend_and_its_expected_cost_fit():
    assert decide(10.0, [3.0, 3.0], []).action == GO  # 6 + 3 <= 10
    v = decide(10.0, [3.0, 3.0, 3.0], [])  # 9 + 3 > 10
    assert v.action == STOP and v.expected == pytest.approx(3.0) and "$9.00 of its $10 budget" in v.reason


def test_running_trials_count_at_their_expected_cost_and_a_late_one_waits():
    assert decide(10.0, [3.0], [0.5]).action == GO  # 3 + 3 + 3 <= 10
    assert decide(10.0, [3.0, 3.0], [0.5]).action == WAIT  # 6 + 3 + 3 > 10, but the running one may end cheaper


def test_the_sweep_stops_once_the_spend_reaches_the_budget():
    assert decide(10.0, [6.0], [4.5]).action == STOP


@pytest.mark.parametrize("bad", [0, -5, "25", True])
def test_a_budget_must_be_a_positive_amount(bad):
    with pytest.raises(MlwsError, match="--budget must be a positive amount"):
        check_budget(bad)
    assert check_budget(25) == 25.0 and check_budget(None) is None
