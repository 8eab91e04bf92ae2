"""Labels → W&B tags and note → W&B notes for online runs. W&B's network API is faked here
(there is no W&B server or account on this machine): these tests check what mlws asks of it."""

import pytest

from mlws import api
from mlws.history.wandb_mirror import mirror
from mlws.registry import open_registry
from mlws.spec import RunSpec
from mlws.workspace import Workspace


class FakeRun:
    """A W&B run as training left it: tagged with its experiment, stopped early, one tag from W&B's UI."""

    def __init__(self):
        self.tags, self.notes, self.updates = ["model_01", "stopped", "from-ui"], "", 0

    def update(self):
        self.updates += 1


class FakeApi:
    runs: dict = {}

    def __init__(self, *a, **k):
        pass

    def run(self, path):
        return FakeApi.runs.setdefault(path, FakeRun())


def _record(ws, mode):
    registry = open_registry(Workspace(ws).registry_url)
    spec = RunSpec(
        experiment="model_01",
        overrides=(),
        config={},
        workspace=str(ws),
        command="x",
        created_at="2026-01-01T00:00:00+00:00",
    )
    run_id = registry.create(spec, "", "local", run_dir_for=str)
    registry.finish(
        run_id,
        "succeeded",
        artifacts={"wandb": {"mode": mode, "id": "abc123", "project": "mlws-digits", "entity": "team"}},
    )
    return run_id


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_fake_wandb_api_receives_labels_and_note_for_online_runs(ws, monkeypatch):
    import wandb

    FakeApi.runs = {}
    monkeypatch.setattr(wandb, "Api", FakeApi)
    run_id = _record(ws, "online")
    api.label(run_id, ["best", "v2"], workspace=ws)
    api.note(run_id, "CNN now", workspace=ws)
    fake = FakeApi.runs["team/mlws-digits/abc123"]
    assert fake.tags == ["model_01", "stopped", "from-ui", "best", "v2"]  # merged: W&B's own tags stay
    assert fake.notes == "CNN now" and fake.updates == 2
    api.label(run_id, ["v2"], remove=True, workspace=ws)
    assert fake.tags == ["model_01", "stopped", "from-ui", "best"] and fake.updates == 3


def test_offline_runs_are_not_mirrored(ws, monkeypatch):
    import wandb

    FakeApi.runs = {}
    monkeypatch.setattr(wandb, "Api", FakeApi)
    run_id = _record(ws, "offline")
    api.label(run_id, ["best"], workspace=ws)
    assert FakeApi.runs == {}


def test_an_unreachable_wandb_leaves_the_registry_change_in_place(ws, capsys):
    def broken():
        raise ConnectionError("no route to api.wandb.ai")

    record = {"artifacts": {"wandb": {"mode": "online", "id": "x", "project": "p"}}}
    assert mirror(record, add_tags=["a"], api_factory=broken) is False
    assert "could not mirror to W&B run p/x" in capsys.readouterr().err
