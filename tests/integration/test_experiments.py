"""Every experiment composes, validates and plans; Hydra's override grammar works as usual."""

import json

import pytest
import yaml

from mlws import api
from mlws.spec import RunSpec
from mlws.workspace import Workspace

from ..support.helpers import REPO

EXPERIMENTS = sorted(p.stem for p in (REPO / "experiments").glob("*.yaml"))


@pytest.fixture(scope="module")
def repo_ws(tmp_path_factory):
    from ..support.helpers import make_workspace

    return Workspace(make_workspace(tmp_path_factory.mktemp("exp") / "ws", git=False))


def test_twelve_experiments_exist():
    assert EXPERIMENTS == [f"model_{i:02d}" for i in range(1, 13)]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_plans(name, repo_ws):
    spec = api.plan([f"+experiment={name}"], workspace=repo_ws)
    assert spec.experiment == name
    assert spec.config["description"] != "defaults from conf/"
    # resolved once: no interpolation left, and the spec survives JSON
    assert "${" not in json.dumps(spec.config)
    assert RunSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize("name", EXPERIMENTS[1:])
def test_each_experiment_builds_on_the_previous_one(name):
    number = int(name.split("_")[1])
    data = yaml.safe_load((REPO / "experiments" / f"{name}.yaml").read_text())
    assert f"model_{number - 1:02d}" in data["defaults"]


def test_later_experiment_changes_only_what_it_states(repo_ws):
    a = api.plan(["+experiment=model_11"], workspace=repo_ws).config
    b = api.plan(["+experiment=model_12"], workspace=repo_ws).config
    from mlws.flatten import flatten

    fa, fb = flatten(a), flatten(b)
    changed = {k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k)}
    # model_12 states channels and epochs; T_max follows max_epochs by interpolation
    assert changed == {"description", "model.net.channels", "trainer.max_epochs", "model.scheduler.T_max"}


def test_override_grammar(repo_ws):
    spec = api.plan(
        [
            "+experiment=model_03",
            "model.lr=3e-4",
            "trainer.max_epochs=20",
            "data.batch_size=32",
            "+trainer.fast_dev_run=true",
            "~callbacks.model_checkpoint",
            "model/net=cnn",
        ],
        workspace=repo_ws,
    )
    c = spec.config
    assert c["model"]["lr"] == 3e-4 and c["trainer"]["max_epochs"] == 20 and c["data"]["batch_size"] == 32
    assert c["trainer"]["fast_dev_run"] is True
    assert "model_checkpoint" not in c["callbacks"]
    assert c["model"]["net"]["_target_"] == "mlws.examples.nets.CNN"
    assert spec.overrides[1] == "model.lr=3e-4"


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_check_command_reports_every_experiment(repo_ws):
    results = api.check(workspace=repo_ws)
    assert [(r["experiment"], r["ok"], r["error"], r["compute"]) for r in results] == [
        (name, True, None, "local") for name in EXPERIMENTS
    ]
