"""timing.json's per-epoch figures: each epoch's steps, and its training seconds with the
validation that ran inside the epoch taken out (recorded as that epoch's validation seconds)."""

import json
import time

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from mlws.training import flavour
from mlws.training.recorder import RunRecorder

STEP_S = 0.02  # each training step sleeps this long
SLOW_VALIDATION_S = 1.0  # the validation of epoch 1 only


class Sleepy(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        time.sleep(STEP_S)
        return self.layer(batch[0]).sum()

    def validation_step(self, batch, batch_idx):
        self.log("val/x", self.layer(batch[0]).sum())

    def on_validation_epoch_end(self):
        if not self.trainer.sanity_checking and self.current_epoch == 1:
            time.sleep(SLOW_VALIDATION_S)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_each_epoch_records_its_steps_and_training_time_without_its_validation(tmp_path):
    data = DataLoader(TensorDataset(torch.zeros(8, 2)), batch_size=2)  # 4 steps an epoch
    trainer = pl.Trainer(
        max_epochs=3,
        callbacks=[flavour.adopt(RunRecorder(tmp_path), pl, "recorder")],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(Sleepy(), data, data)
    timing = json.loads((tmp_path / "timing.json").read_text())
    epochs = timing["epochs"]
    assert [e["epoch"] for e in epochs] == [0, 1, 2] and [e["steps"] for e in epochs] == [4, 4, 4]
    slow = epochs[1]
    assert slow["validation_s"] >= SLOW_VALIDATION_S  # the slow validation is counted as validation...
    assert 4 * STEP_S <= slow["train_s"] < SLOW_VALIDATION_S  # ...and not as training
    assert all(e["validation_s"] < SLOW_VALIDATION_S for e in (epochs[0], epochs[2]))
    # the epochs' validation is the run's (the sanity check is in neither)
    assert abs(sum(e["validation_s"] for e in epochs) - timing["validation_s"]) < 1e-6
