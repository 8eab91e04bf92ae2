"""`mlws init`'s files: what it writes, that it never overwrites, its warnings and refusals."""

import pytest
import yaml

from mlws.errors import MlwsError
from mlws.scaffold import init

MODEL = """
import torch
from lightning import LightningModule

raise RuntimeError("mlws init must not import or run this file")


class Base(LightningModule):
    def __init__(self, lr: float = 1e-3, *, betas=(0.9, 0.99), act=torch.nn.ReLU(), opts: dict = None):
        super().__init__()


class Net(Base):  # its arguments are its base's
    pass


class Data:
    def __init__(self, root: str, batch_size: int = 64, val_fraction=-0.1, name="digits", **kwargs):
        pass


class NoArguments(LightningModule):
    pass
"""


def test_init_writes_a_workspace_that_points_at_the_users_classes(tmp_path):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "__init__.py").write_text("")
    (tmp_path / "acme" / "model.py").write_text(MODEL)
    (tmp_path / ".gitignore").write_text("*.pyc")
    out = init(tmp_path, model="acme.model.Net", data="acme.model.Data", metric="val/acc", mode="max")
    assert out["name"] == "acme" and out["warnings"] == [] and out["next"] == "mlws train +experiment=acme_01"
    root = yaml.safe_load((tmp_path / "conf" / "config.yaml").read_text())
    assert root["defaults"][:3] == [{"model": "acme"}, {"data": "acme"}, {"trainer": "default"}]
    assert root["monitor"] == {"metric": "val/acc", "mode": "max", "loss": None, "hardware_interval_s": 2.0}
    model = (tmp_path / "conf" / "model" / "acme.yaml").read_text()
    # the __init__ arguments with their defaults; an object default is shown, not written as a value
    assert yaml.safe_load(model) == {"_target_": "acme.model.Net", "lr": 0.001, "betas": [0.9, 0.99], "opts": None}
    assert "# act: torch.nn.ReLU()" in model
    assert yaml.safe_load((tmp_path / "conf" / "data" / "acme.yaml").read_text()) == {
        "_target_": "acme.model.Data",
        "root": "???",
        "batch_size": 64,
        "val_fraction": -0.1,
        "name": "digits",
    }
    assert (tmp_path / "experiments" / "acme_01.yaml").read_text().startswith("# @package _global_")
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\nruns/\n.mlws/\n"


def test_init_never_overwrites_and_says_which_files(tmp_path):
    init(tmp_path, name="m")
    (tmp_path / "conf" / "model" / "m.yaml").write_text("_target_: mine.Net\nlr: 0.1\n")
    with pytest.raises(MlwsError, match="not overwriting conf/config.yaml, conf/model/m.yaml"):
        init(tmp_path, name="m")
    assert "lr: 0.1" in (tmp_path / "conf" / "model" / "m.yaml").read_text()
    init(tmp_path, name="m", force=True)
    assert "lr" not in (tmp_path / "conf" / "model" / "m.yaml").read_text()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"model": "Net"}, "expected a dotted path to a class"),
        ({"name": "my model"}, "use letters, digits"),
        ({"mode": "best"}, "--mode must be min or max"),
    ],
)
def test_bad_input_is_refused_before_writing(tmp_path, kwargs, message):
    with pytest.raises(MlwsError, match=message):
        init(tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_a_module_that_is_not_there_yet_is_a_warning(tmp_path):
    out = init(tmp_path, model="nowhere_pkg.model.Net", data="json.JSONDecoder")  # json: found on the path
    assert len(out["warnings"]) == 1 and "no module nowhere_pkg.model" in out["warnings"][0]
    assert "conf/model/nowhere_pkg.yaml has only _target_" in out["warnings"][0]
    assert (tmp_path / "conf" / "config.yaml").exists()
    # JSONDecoder is re-exported by json/__init__.py: followed to json/decoder.py, outside the workspace
    assert yaml.safe_load((tmp_path / "conf" / "data" / "nowhere_pkg.yaml").read_text())["strict"] is True


@pytest.mark.parametrize(
    "target, says",
    [
        ("acme.model.Missing", "no class Missing in"),
        ("acme.broken.Net", "cannot read"),
    ],
)
def test_a_class_that_cannot_be_read_yet_is_a_warning(tmp_path, target, says):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "__init__.py").write_text("")
    (tmp_path / "acme" / "model.py").write_text(MODEL)
    (tmp_path / "acme" / "broken.py").write_text("class Net(:\n")
    out = init(tmp_path, model=target, data="acme.model.NoArguments")
    assert len(out["warnings"]) == 1 and says in out["warnings"][0], out["warnings"]
    assert yaml.safe_load((tmp_path / "conf" / "model" / "acme.yaml").read_text()) == {"_target_": target}
    assert yaml.safe_load((tmp_path / "conf" / "data" / "acme.yaml").read_text()) == {
        "_target_": "acme.model.NoArguments"
    }


def test_a_package_that_re_exports_its_class(tmp_path):
    (tmp_path / "acme" / "nets").mkdir(parents=True)
    (tmp_path / "acme" / "__init__.py").write_text("from .nets import Net as Net\n")
    (tmp_path / "acme" / "nets" / "__init__.py").write_text("from .cnn import Net\n")
    (tmp_path / "acme" / "nets" / "cnn.py").write_text("class Net:\n    def __init__(self, width=32):\n        pass\n")
    out = init(tmp_path, model="acme.Net", data="acme.nets.cnn.Net")
    assert out["warnings"] == []
    assert yaml.safe_load((tmp_path / "conf" / "model" / "acme.yaml").read_text())["width"] == 32
