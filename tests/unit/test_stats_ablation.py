"""mlws.stats.ablation and the pure parts of mlws.ops.ablate: effects, shares and the interaction
from known means; bootstrap intervals that cover the truth; changes, groups and override values."""

from __future__ import annotations

import random

import pytest

from mlws.errors import MlwsError
from mlws.ops.ablate import hydra_value, step_changes
from mlws.stats.ablation import ablation, estimates


def test_additive_changes_have_no_interaction_and_shares_that_sum_to_one():
    means = {
        "parent": 0.5,
        "run": 0.8,
        ("add", "a"): 0.7,
        ("leave_out", "a"): 0.6,
        ("add", "b"): 0.6,
        ("leave_out", "b"): 0.7,
    }
    out = estimates(means, ["a", "b"])
    assert out["gain"] == pytest.approx(0.3) and out["interaction"] == pytest.approx(0.0)
    assert out["effects"]["a"]["share"] == pytest.approx(2 / 3) and out["effects"]["b"]["share"] == pytest.approx(1 / 3)


def test_changes_that_only_work_together_show_as_interaction():
    means = {
        "parent": 0.5,
        "run": 0.8,
        ("add", "a"): 0.5,
        ("leave_out", "a"): 0.5,
        ("add", "b"): 0.5,
        ("leave_out", "b"): 0.5,
    }
    out = estimates(means, ["a", "b"])
    assert out["interaction"] == pytest.approx(0.3)
    assert out["effects"]["a"]["add"] == 0 and out["effects"]["a"]["leave_out"] == pytest.approx(0.3)


def _simulated(rng, n, matters=("a",), changes=("a", "b", "c", "d")):
    def g(m):
        return [m + rng.gauss(0, 0.02) for _ in range(n)]

    values = {"parent": g(0.5), "run": g(0.7)}
    for c in changes:
        values[("add", c)] = g(0.7 if c in matters else 0.5)
        values[("leave_out", c)] = g(0.5 if c in matters else 0.7)
    return values


def test_the_key_that_matters_gets_the_gain_in_nine_of_ten_repetitions():
    rng = random.Random(27)
    wins = 0
    for rep in range(10):
        out = ablation(_simulated(rng, 3), ["a", "b", "c", "d"], seed=rep, draws=300)
        a = out["effects"]["a"]
        wins += a["share"]["estimate"] >= 0.8 and a["matters"] and not any(out["effects"][c]["matters"] for c in "bcd")
    assert wins >= 9


def test_one_seed_gives_estimates_without_intervals():
    out = ablation(_simulated(random.Random(1), 1), ["a", "b", "c", "d"])
    assert out["effects"]["a"]["share"]["low"] is None and out["effects"]["a"]["matters"] is None
    assert out["gain"]["distinguishable"] is None


def test_step_changes_and_groups():
    parent = {"description": "p", "seed": 1, "model": {"lr": 0.1, "net": {"w": 16, "d": 2}}, "trainer": {"e": 3}}
    run = {
        "description": "r",
        "seed": 2,
        "model": {"lr": 0.2, "net": {"w": 32, "d": 2}, "tag": "x"},
        "trainer": {"e": 3},
    }
    changes = step_changes(parent, run)
    assert [c["change"] for c in changes] == ["model.lr", "model.net.w", "model.tag"]
    assert changes[2]["keys"] == {"model.tag": ["(none)", "x"]}
    grouped = step_changes(parent, run, ["model.net,model.tag"])
    assert [c["change"] for c in grouped] == ["model.net+model.tag", "model.lr"]
    with pytest.raises(MlwsError, match="trainer is not a key this step changes"):
        step_changes(parent, run, ["trainer"])
    with pytest.raises(MlwsError, match="nothing to ablate"):
        step_changes(parent, parent | {"seed": 5})


def test_values_are_written_in_hydras_grammar():
    assert hydra_value(None) == "null" and hydra_value(True) == "true" and hydra_value(0.05) == "0.05"
    assert hydra_value([32, 64]) == "[32,64]" and hydra_value("it's ${x}") == "'it\\'s \\${x}'"
    assert hydra_value({"a": 1, "b": [True]}) == "{a:1,b:[true]}"


def test_a_change_that_does_not_matter_is_rarely_said_to():
    """The effects' intervals are t-based: calibrated with 3 seeds (a bootstrap's would not be)."""
    rng = random.Random(5)
    flagged = sum(
        ablation(_simulated(rng, 3), ["a", "b", "c", "d"], seed=i, draws=20)["effects"][c]["matters"]
        for i in range(100)
        for c in "bcd"
    )
    assert flagged <= 21, f"{flagged}/300 changes that do not matter called ones that do"
