"""A LightningModule written the way the most used Lightning + Hydra template writes it: the `net`
module and functools.partial optimizer/scheduler passed in and saved with save_hyperparameters(),
torchmetrics metrics, ReduceLROnPlateau on val/loss. Its checkpoints pickle those objects; mlws
serves and loads it from the safetensors weights written next to each checkpoint, never the .ckpt."""

import json
import pickle
import uuid
from pathlib import Path

import pytest

from ..support.helpers import PicklePayload, forget_user_package, mlws, mlws_json
from ..support.user_projects import DATA_CONFIG, MODEL_CONFIG, TEMPLATE_DATA, TEMPLATE_MODULE

pytestmark = [pytest.mark.serve]


@pytest.fixture
def template_ws(ws, env, tmp_path, monkeypatch):
    pkg = tmp_path / "userlib" / "acme"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "lit.py").write_text(TEMPLATE_MODULE)
    (pkg / "data.py").write_text(TEMPLATE_DATA)
    (ws / "conf" / "model" / "lit.yaml").write_text(MODEL_CONFIG)
    (ws / "conf" / "data" / "lit.yaml").write_text(DATA_CONFIG)
    monkeypatch.syspath_prepend(str(tmp_path / "userlib"))  # mlws.load_run in this process builds it too
    forget_user_package(monkeypatch)
    return ws, {**env, "PYTHONPATH": str(tmp_path / "userlib")}


def test_template_module_trains_compares_serves_and_reruns(template_ws, tmp_path):
    ws, env = template_ws
    train = ["model=lit", "data=lit", "data.normalize=true", "trainer.max_epochs=3", "logger=none"]
    typo = mlws("train", *train, "model.optimizer.lrr=0.1", cwd=ws, env=env)
    assert typo.returncode == 2 and "did you mean 'model.optimizer.lr'" in typo.stderr
    assert mlws("train", *train, cwd=ws, env=env).returncode == 0
    assert mlws("train", *train, "model.optimizer.lr=0.01", cwd=ws, env=env).returncode == 0
    runs = {r["id"]: r for r in mlws_json("runs", cwd=ws, env=env)}
    assert runs[1]["metrics"]["val/acc"] > 0.5 and runs[2]["status"] == "succeeded"
    assert mlws_json("diff", "1", "2", cwd=ws, env=env)["config"]["changed"] == {"model.optimizer.lr": [0.003, 0.01]}

    record = mlws_json("show", "1", cwd=ws, env=env)
    best = Path(record["artifacts"]["checkpoints"]["best"])
    assert best.with_suffix(".safetensors").is_file() and (best.parent / "last.safetensors").is_file()
    import torch

    with pytest.raises(pickle.UnpicklingError):  # the .ckpt pickles the net and the partials
        torch.load(best, weights_only=True)
    from sklearn.datasets import load_digits

    images = load_digits().images[:32].tolist()
    from mlws import api

    answer = api.load_run(1, workspace=ws).predict(images)
    trusted = torch.load(best, weights_only=False)  # we wrote it: the reference answer
    model = api.load_run(1, workspace=ws).model
    model.load_state_dict(trusted["state_dict"])
    with torch.no_grad():
        reference = model(torch.tensor(images).unsqueeze(1) / 16).argmax(-1).tolist()
    assert answer["predictions"] == reference

    # served over HTTP from the same weights
    from ..support.helpers import free_port
    from ..support.serving_client import post

    port = free_port()
    assert mlws("serve", "1", "--port", str(port), "--detach", cwd=ws, env=env, timeout=400).returncode == 0
    try:
        status, served = post(port, json.dumps({"inputs": images}).encode())
        assert status == 200 and served["predictions"] == reference
    finally:
        mlws("serve", "stop", "1", cwd=ws, env=env, timeout=120)

    rerun = mlws("rerun", "1", cwd=ws, env=env)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    again = mlws_json("show", "3", cwd=ws, env=env)
    assert again["config"] == record["config"] and again["metrics"]["val/acc"] == pytest.approx(
        record["metrics"]["val/acc"]
    )


def test_pickled_hyperparameters_never_run_and_tampered_weights_are_refused(template_ws, tmp_path):
    ws, env = template_ws
    assert (
        mlws(
            "train",
            "model=lit",
            "data=lit",
            "data.normalize=true",
            "trainer.max_epochs=1",
            "logger=none",
            cwd=ws,
            env=env,
        ).returncode
        == 0
    )
    best = Path(mlws_json("show", "1", cwd=ws, env=env)["artifacts"]["checkpoints"]["best"])
    import torch

    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    checkpoint = torch.load(best, weights_only=False)
    checkpoint["hyper_parameters"]["payload"] = PicklePayload(marker)
    torch.save(checkpoint, best)  # a .ckpt that runs code when unpickled
    from mlws import api
    from mlws.errors import MlwsError

    assert len(api.load_run(1, workspace=ws).predict([[0.0] * 64])["predictions"]) == 1
    assert not marker.exists()  # inference never unpickled the .ckpt
    best.with_suffix(".safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(MlwsError, match="refusing weights file .* not a readable safetensors file"):
        _ = api.load_run(1, workspace=ws).model
    out = mlws("serve", "1", cwd=ws, env=env)
    assert out.returncode == 2 and "refusing weights file" in out.stderr and "Traceback" not in out.stderr
    assert not marker.exists()


def test_a_lightning_module_resumes_from_its_last_checkpoint(template_ws, tmp_path):
    """A `lightning.pytorch` module stopped after 2 epochs carries on from last.ckpt to 4 (as a
    preempted cloud node reruns the worker on the same run directory)."""
    import subprocess
    import sys

    from mlws import api

    ws, env = template_ws
    node_env = {**env, "MLWS_REMOTE": "1", "MLWS_RUN_DIR": str(tmp_path / "bucket")}
    for epochs in (2, 4):
        spec = api.plan(
            ["model=lit", "data=lit", "data.normalize=true", f"trainer.max_epochs={epochs}", "logger=none"],
            workspace=ws,
        )
        path = spec.with_run(1, str(tmp_path / "unused")).write(tmp_path / f"spec{epochs}.json")
        out = subprocess.run(
            [sys.executable, "-m", "mlws.worker", str(path)],
            cwd=ws,
            env=node_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr[-3000:]
    assert "Restoring states from the checkpoint path" in out.stdout + out.stderr
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "bucket" / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [0, 1, 2, 3]
    result = json.loads((tmp_path / "bucket" / "result.json").read_text())
    assert result["artifacts"]["lightning"].startswith("lightning.pytorch ")


def test_mixing_the_two_lightning_packages_is_one_clear_message(template_ws):
    ws, env = template_ws
    out = mlws("train", "model=lit", "data=digits", "trainer.max_epochs=1", "logger=none", cwd=ws, env=env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert (
        "data: mlws.examples.digits.DigitsDataModule is a pytorch_lightning LightningDataModule, but the model "
        "is a lightning.pytorch LightningModule"
    ) in out.stderr
    (ws / "conf" / "callbacks" / "old.yaml").write_text("old:\n  _target_: pytorch_lightning.callbacks.Callback\n")
    user_cb = mlws(
        "train",
        "model=lit",
        "data=lit",
        "callbacks=[default,old]",
        "trainer.max_epochs=1",
        "logger=none",
        cwd=ws,
        env=env,
    )
    assert user_cb.returncode == 0, user_cb.stderr[-2000:]  # a Lightning class named in config follows the model
    # a callback class of the user's own, written with the other package, cannot follow: refused, named
    (ws / "conf" / "callbacks" / "old.yaml").write_text("old:\n  _target_: acme.cb.Old\n")
    (Path(env["PYTHONPATH"]) / "acme" / "cb.py").write_text(
        "import pytorch_lightning as pl\n\n\nclass Old(pl.Callback):\n    pass\n"
    )
    own = mlws(
        "train",
        "model=lit",
        "data=lit",
        "callbacks=[default,old]",
        "trainer.max_epochs=1",
        "logger=none",
        cwd=ws,
        env=env,
    )
    assert own.returncode == 1 and "Traceback" not in own.stderr
    assert (
        "callbacks.old: acme.cb.Old is a pytorch_lightning Callback, but the model is a lightning.pytorch" in own.stderr
    )
