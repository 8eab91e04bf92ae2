"""The baseline for bench_train.py: model_12 written as a plain Lightning script, no mlws.

Same data, model, optimiser, schedule, epochs, checkpointing and W&B (offline) logger as
`mlws train +experiment=model_12`; writes first-step time and steps/s to the JSON path given.
"""

import json
import sys
import time
from functools import partial

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import WandbLogger

from mlws.examples.digits import DigitsClassifier, DigitsDataModule
from mlws.examples.nets import CNN


class Timing(pl.Callback):
    def __init__(self):
        self.first = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.first = self.first or time.time()

    def on_train_end(self, trainer, pl_module):  # the same end point mlws's recorder uses
        self.end = time.time()


def main(out_path: str, run_dir: str) -> None:
    pl.seed_everything(42, workers=True, verbose=False)
    data = DigitsDataModule(batch_size=64, normalize=True, augment_shift=1)
    net = CNN(channels=[32, 64], hidden=64, dropout=0.2, batch_norm=True)
    model = DigitsClassifier(
        net,
        lr=0.003,
        weight_decay=0.01,
        optimizer=partial(torch.optim.AdamW),
        scheduler=partial(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=25),
    )
    timing = Timing()
    trainer = pl.Trainer(
        max_epochs=25,
        devices=1,
        deterministic=True,
        log_every_n_steps=10,
        default_root_dir=run_dir,
        callbacks=[
            ModelCheckpoint(dirpath=f"{run_dir}/checkpoints", monitor="val/acc", mode="max", save_last=True),
            timing,
        ],
        logger=WandbLogger(project="bench", save_dir=run_dir, mode="offline"),
    )
    trainer.fit(model, datamodule=data)
    end = timing.end
    import wandb

    wandb.finish()
    json.dump(
        {
            "first_step_at": timing.first,
            "end_at": end,
            "steps": trainer.global_step,
            "steps_per_sec": trainer.global_step / (end - timing.first),
            "val/acc": float(trainer.callback_metrics["val/acc"]),
        },
        open(out_path, "w"),
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
