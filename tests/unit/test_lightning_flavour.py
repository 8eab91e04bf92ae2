"""Which Lightning package a run trains with, read off its module; config targets and mlws's own
callbacks follow it; the other package's objects are refused with the reason."""

import lightning.pytorch as lp
import pytest
import pytorch_lightning as pl

from mlws.errors import RunFailed
from mlws.training import flavour
from mlws.training.recorder import RunRecorder


class New(lp.LightningModule):
    pass


class Old(pl.LightningModule):
    pass


def test_the_package_is_the_modules_own():
    assert flavour.package_of(New()) == "lightning.pytorch" and flavour.package_of(Old()) == "pytorch_lightning"
    with pytest.raises(RunFailed, match="model: builtins.object is not a LightningModule"):
        flavour.package_of(object())


@pytest.mark.parametrize(
    "target, package, expected",
    [
        ("pytorch_lightning.Trainer", "lightning.pytorch", "lightning.pytorch.Trainer"),
        (
            "lightning.pytorch.callbacks.ModelCheckpoint",
            "pytorch_lightning",
            "pytorch_lightning.callbacks.ModelCheckpoint",
        ),
        ("lightning.Trainer", "pytorch_lightning", "pytorch_lightning.Trainer"),
        ("lightning.Trainer", "lightning.pytorch", "lightning.pytorch.Trainer"),
        ("lightning.fabric.Fabric", "pytorch_lightning", "lightning.fabric.Fabric"),
        ("pytorch_lightning_extras.Thing", "lightning.pytorch", "pytorch_lightning_extras.Thing"),
        ("mlws.training.media.ConfusionMatrix", "lightning.pytorch", "mlws.training.media.ConfusionMatrix"),
    ],
)
def test_config_targets_follow_the_package(target, package, expected):
    assert flavour.retarget(target, package) == expected


def test_nested_targets_are_retargeted_and_the_config_is_not_changed():
    node = {
        "_target_": "pytorch_lightning.Trainer",
        "profiler": {"_target_": "pytorch_lightning.profilers.SimpleProfiler"},
        "plugins": [{"_target_": "pytorch_lightning.plugins.environments.LightningEnvironment"}],
        "max_epochs": 2,
    }
    out = flavour.retargeted(node, "lightning.pytorch")
    assert out["profiler"]["_target_"] == "lightning.pytorch.profilers.SimpleProfiler"
    assert out["plugins"][0]["_target_"].startswith("lightning.pytorch.") and out["max_epochs"] == 2
    assert node["_target_"] == "pytorch_lightning.Trainer"


@pytest.mark.parametrize("package", [lp, pl])
def test_mlws_callbacks_become_callbacks_of_either_package(package, tmp_path):
    cb = flavour.adopt(RunRecorder(tmp_path), package, "recorder")
    assert isinstance(cb, package.Callback) and isinstance(cb, RunRecorder)
    assert type(cb).on_fit_start is RunRecorder.on_fit_start  # its own hooks
    assert type(cb).on_test_end is package.Callback.on_test_end  # the package's defaults for the rest
    assert cb.state_dict() == {}


def test_a_callback_of_the_other_package_is_refused_with_the_reason():
    with pytest.raises(
        RunFailed,
        match="callbacks.x: pytorch_lightning.callbacks.callback.Callback is a "
        "pytorch_lightning Callback, but the model is a lightning.pytorch",
    ):
        flavour.adopt(pl.Callback(), lp, "callbacks.x")
    with pytest.raises(RunFailed, match="callbacks.x: builtins.object is not a Lightning Callback"):
        flavour.adopt(object(), lp, "callbacks.x")
    flavour.check_data(lp.LightningDataModule(), "lightning.pytorch")
    flavour.check_data(object(), "lightning.pytorch")  # a plain object: Lightning says what it thinks
    with pytest.raises(RunFailed, match="Lightning cannot mix the two packages"):
        flavour.check_data(pl.LightningDataModule(), "lightning.pytorch")
