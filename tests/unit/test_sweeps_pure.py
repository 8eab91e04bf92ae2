"""Sweeps' pure parts: overrides split with Hydra's grammar, trial identity and resume decisions,
ranking by the sweep's own objective, the markdown comment, the study's storage URL."""

import pytest

from mlws.errors import MlwsError
from mlws.sweeps import ranking, space, study, trials


def run(i, status="succeeded", value=None, key="k", index=None, config=None, metric="val/acc"):
    return {
        "id": i,
        "status": status,
        "metrics": {} if value is None else {metric: value},
        "trial_key": key,
        "trial_index": index or i,
        "config": config or {},
    }


def test_overrides_split_into_fixed_swept_and_sweeper_settings():
    args = space.parse(
        [
            "+experiment=model_12",
            "model.lr=1e-3,3e-4",
            "data.batch_size=range(16,65,16)",
            "hydra/sweeper=optuna",
            "hydra.sweeper.n_trials=4",
            "model.wd=interval(0,0.1)",
        ]
    )
    assert args.fixed == ("+experiment=model_12",)
    assert args.swept == {"model.lr": "1e-3,3e-4", "data.batch_size": "range(16,65,16)", "model.wd": "interval(0,0.1)"}
    assert args.hydra == ("hydra/sweeper=optuna", "hydra.sweeper.n_trials=4") and args.sweeper_choice == "optuna"
    assert args.representative == ("+experiment=model_12", "model.lr=0.001", "data.batch_size=16", "model.wd=0.0")


def test_a_malformed_override_is_one_clear_error():
    with pytest.raises(MlwsError, match="cannot parse override"):
        space.parse(["model.lr=1e-3,,"])


def test_the_signature_follows_fixed_overrides_space_and_settings_not_their_order():
    a = space.parse(["+experiment=m", "x=1", "model.lr=1,2"])
    b = space.parse(["x=1", "+experiment=m", "model.lr=1,2"])
    c = space.parse(["+experiment=m", "x=1", "model.lr=1,3"])
    assert space.signature(a, {}) == space.signature(b, {}) != space.signature(c, {})
    assert space.signature(a, {}) != space.signature(a, {"y": "choice(1,2)"})  # the config's params count


def test_trial_key_is_the_effective_config():
    assert trials.trial_key({"a": 1, "b": {"c": 2}}) == trials.trial_key({"b": {"c": 2}, "a": 1})
    assert trials.trial_key({"a": 1}) != trials.trial_key({"a": 1.5})


@pytest.mark.parametrize(
    "statuses, action, chosen",
    [
        ([], "new", None),
        (["failed", "stopped"], "new", None),
        (["failed", "succeeded", "failed"], "done", 2),
        (["failed", "running"], "adopt", 2),
        (["succeeded", "running"], "done", 1),
    ],
)
def test_what_a_resume_does_with_a_trial(statuses, action, chosen):
    got, record = trials.decide([run(i, s) for i, s in enumerate(statuses, start=1)])
    assert got == action and (record["id"] if record else None) == chosen


def test_a_trial_reports_its_key_metric_only_when_it_succeeded():
    assert trials.value_of(run(1, value=0.9), "val/acc") == 0.9
    assert trials.value_of(run(1, "failed", value=0.9), "val/acc") is None
    assert trials.value_of(run(1, value=0.9), "val/mse") is None


@pytest.mark.parametrize("mode, order", [("max", [2, 3, 1, 4]), ("min", [1, 3, 2, 4])])
def test_ranking_best_first_by_the_sweeps_mode_then_the_rest(mode, order):
    rs = [run(1, value=0.1), run(2, value=0.9), run(3, value=0.5), run(4, "failed")]
    assert [r["id"] for r in ranking.rank(rs, "val/acc", mode)] == order


def test_varied_keys_are_those_that_differ_between_trials():
    configs = [
        {"model": {"lr": 1, "wd": 0}, "description": "a"},
        {"model": {"lr": 2, "wd": 0}, "description": "b"},
        {"model": {"lr": 2, "wd": 0, "extra": True}},
    ]
    assert ranking.varied_keys(configs) == ["model.extra", "model.lr"]


def test_markdown_comment_lists_trials_best_first_with_their_keys():
    rs = [run(1, value=0.5, config={"lr": 1}), run(2, value=0.7, config={"lr": 2}), run(3, "failed", config={"lr": 3})]
    keys, table = ranking.rows(rs, "val/acc", "max")
    sweep = {
        "id": 4,
        "experiment": "model_12",
        "sweeper": "basic",
        "status": "finished",
        "metric": "val/acc",
        "mode": "max",
        "command": "mlws train -m +experiment=model_12 lr=1,2,3",
    }
    text = ranking.markdown(sweep, keys, table)
    lines = text.splitlines()
    assert lines[0] == "### Sweep 4 · model_12 · basic · finished"
    assert lines[-3:] == [
        "| 1 | 2 | 2 | succeeded | 0.7000 | 2 |",
        "| 2 | 1 | 1 | succeeded | 0.5000 | 1 |",
        "| — | 3 | 3 | failed | — | 3 |",
    ]


def test_the_study_lives_in_the_registry_database():
    assert study.storage_url("sqlite:////w/.mlws/registry.db") == "sqlite:////w/.mlws/registry.db"
    assert study.storage_url("postgresql://u:p@h:5/db") == "postgresql+psycopg://u:p@h:5/db"
    assert study.storage_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert study.study_name(3) == "mlws-sweep-3"
