"""`--where` parsing and sorting, schema range checks, registry URL descriptions (no password)."""

import operator

import pytest

from mlws.errors import MlwsError
from mlws.history.query import apply_where, parse_condition, sort_runs
from mlws.validate import _range_problem


@pytest.mark.parametrize(
    "text, expected",
    [
        ("val/acc>=0.95", ("val/acc", operator.ge, 0.95)),
        (" val/loss < 1e-2 ", ("val/loss", operator.lt, 0.01)),
        ("epoch==3", ("epoch", operator.eq, 3.0)),
        ("epoch=3", ("epoch", operator.eq, 3.0)),
        ("train/loss!=-1", ("train/loss", operator.ne, -1.0)),
        ("mse<=2.5E+1", ("mse", operator.le, 25.0)),
    ],
)
def test_parse_condition(text, expected):
    assert parse_condition(text) == expected


@pytest.mark.parametrize("text", ["val/acc", "val/acc>>1", ">=0.5", "val/acc>=high", "val/acc>=1.2.3"])
def test_bad_conditions_are_clear_errors(text):
    with pytest.raises(MlwsError, match="condition"):
        parse_condition(text)


ROWS = [
    {"id": 1, "metrics": {"val/acc": 0.9, "mse": 3.0}},
    {"id": 2, "metrics": {"val/acc": 0.97}},
    {"id": 3, "metrics": {}},
    {"id": 4, "metrics": {"val/acc": 0.97, "mse": 1.0}},
]


@pytest.mark.parametrize(
    "conditions, ids",
    [
        ([], [1, 2, 3, 4]),
        (["val/acc>=0.95"], [2, 4]),
        (["val/acc>0.95", "mse<2"], [4]),
        (["mse>100"], []),
    ],
)
def test_apply_where(conditions, ids):
    assert [r["id"] for r in apply_where(ROWS, conditions)] == ids


@pytest.mark.parametrize(
    "metric, ascending, ids",
    [
        ("val/acc", False, [4, 2, 1, 3]),
        ("val/acc", True, [1, 2, 4, 3]),
        ("mse", True, [4, 1, 2, 3]),
        (None, False, [1, 2, 3, 4]),
    ],
)
def test_sort_runs(metric, ascending, ids):
    assert [r["id"] for r in sort_runs(ROWS, metric, ascending)] == ids


@pytest.mark.parametrize(
    "value, rule, problem",
    [
        (0, {"min": 1}, "must be >= 1, got 0"),
        (1, {"min": 1}, None),
        (0, {"gt": 0}, "must be > 0, got 0"),
        (0.5, {"min": 0, "lt": 1}, None),
        (1.0, {"min": 0, "lt": 1}, "must be < 1, got 1.0"),
        (70000, {"min": 1, "max": 65535}, "must be <= 65535, got 70000"),
        ("avg", {"choices": ["min", "max"]}, "must be one of ['min', 'max'], got 'avg'"),
        ("8+", {"gt": 0}, None),  # not a number: the type check reports it, not the range
        (True, {"min": 5}, None),
    ],
)
def test_range_problem(value, rule, problem):
    assert _range_problem(value, rule) == problem


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://alice:s3cret@db.example:6543/mlws", "postgresql://db.example:6543/mlws"),
        ("postgres://bob:pw@localhost/runs", "postgres://localhost:5432/runs"),
    ],
)
def test_registry_descriptions_never_show_the_password(url, shown):
    from mlws.registry.dialects import dialect_for

    described = dialect_for(url).describe()
    assert described == shown and "s3cret" not in described and "pw" not in described


def test_unsupported_registry_url_hides_credentials():
    from mlws.registry.dialects import dialect_for

    with pytest.raises(MlwsError) as e:
        dialect_for("mysql://root:hunter2@db/x")
    assert "hunter2" not in str(e.value) and "db/x" in str(e.value)


@pytest.mark.parametrize(
    "current, add, remove, expected",
    [
        (["model_12", "stopped"], ["best"], [], ["model_12", "stopped", "best"]),
        (["model_12", "best"], ["best"], [], ["model_12", "best"]),
        (["model_12", "best", "v2"], [], ["best"], ["model_12", "v2"]),
        (None, ["a"], [], ["a"]),
    ],
)
def test_wandb_tags_are_merged_not_replaced(current, add, remove, expected):
    from mlws.history.wandb_mirror import merged_tags

    assert merged_tags(current, add, remove) == expected


@pytest.mark.parametrize(
    "old, git_now, patch_now, versions_now, expected",
    [
        (
            {"id": 3, "git": {"commit": "abc1234567"}, "git_patch": "", "versions": {"torch": "2.13.0"}},
            {"commit": "abc1234567"},
            "",
            {"torch": "2.13.0"},
            [],
        ),
        (
            {"id": 3, "git": {"commit": "abc1234567"}, "git_patch": "", "versions": {"torch": "2.13.0"}},
            {"commit": "def7654321"},
            "",
            {"torch": "2.13.0"},
            ["git checkout abc1234567"],
        ),
        (
            {"id": 3, "git": {"commit": "abc"}, "git_patch": "diff a", "versions": {}, "run_dir": "runs/3"},
            {"commit": "abc"},
            "diff b",
            {},
            ["uncommitted changes differ from run 3's (its patch: runs/3/git.patch)"],
        ),
        (
            {"id": 3, "git": {}, "git_patch": "", "versions": {"torch": "2.12.0", "mlws": "0.1.0"}},
            {},
            "",
            {"torch": "2.13.0", "mlws": "0.1.0"},
            ["package versions differ: torch 2.12.0 → 2.13.0"],
        ),
    ],
)
def test_rerun_warnings(old, git_now, patch_now, versions_now, expected):
    from mlws.ops.history import rerun_warnings

    warnings = rerun_warnings(old, git_now, patch_now, versions_now)
    assert len(warnings) == len(expected) and all(e in w for e, w in zip(expected, warnings)), warnings


def test_key_metric_comes_from_the_runs_own_config():
    from mlws.keymetric import monitor_of, shown_metrics, watched

    regression = {"config": {"monitor": {"metric": "val/mse", "mode": "min", "loss": None}}}
    assert shown_metrics(regression) == ("val/mse",) and watched(regression) == ("val/mse", "min")
    digits = {"monitor": {"metric": "val/acc", "mode": "max", "loss": "val/loss"}}  # a registry summary
    assert shown_metrics(digits) == ("val/acc", "val/loss") and watched(digits) == ("val/loss", "min")
    assert monitor_of({}) == {"metric": None, "mode": "max", "loss": None} and watched({}) is None
