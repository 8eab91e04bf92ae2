"""A tiny synthetic task for `mlws ablate`: noisy linear regression in 8 dimensions, trained in a
second or two. The example pair (mlws/examples/synthetic/experiments) changes four keys and only
one of them, the learning rate, changes what the model learns: `val/score` (1 - MSE / variance of
y, higher is better) rises with it; the tag, the validation batch size and the progress bar do not.

    mlws.examples.synthetic.install(workspace_root)   # its conf/ and experiments/ into a workspace
    mlws train +experiment=synth_base --seeds 3 && mlws train +experiment=synth_four --seeds 3
    mlws ablate RUN      # RUN: a synth_four run; its parent is a synth_base run
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

FILES = Path(__file__).resolve().parent / "synthetic"


def install(root) -> list[Path]:
    """Copy the example's model, data and experiment files into a workspace; returns what was written."""
    root = Path(root)
    written = []
    for source in sorted(FILES.rglob("*.yaml")):
        dest = root / source.relative_to(FILES)  # conf/model/..., conf/data/..., experiments/...
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        written.append(dest)
    return written


class SyntheticRegression(pl.LightningDataModule):
    """y = x·w + noise, x ~ N(0, I_8); the data are fixed by `data_seed` (the run's seed varies init
    and shuffling only)."""

    input_shape = (8,)

    def __init__(
        self,
        n_train: int = 256,
        n_val: int = 256,
        noise: float = 0.5,
        data_seed: int = 0,
        batch_size: int = 32,
        val_batch_size: int = 64,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.train_set: TensorDataset | None = None
        self.val_set: TensorDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        g = torch.Generator().manual_seed(self.hparams.data_seed)
        w = torch.randn(8, 1, generator=g)
        n = self.hparams.n_train + self.hparams.n_val
        x = torch.randn(n, 8, generator=g)
        y = x @ w + self.hparams.noise * torch.randn(n, 1, generator=g)
        self.train_set = TensorDataset(x[: self.hparams.n_train], y[: self.hparams.n_train])
        self.val_set = TensorDataset(x[self.hparams.n_train :], y[self.hparams.n_train :])

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.val_batch_size)


class LinearRegressor(pl.LightningModule):
    """A linear model trained by plain SGD; `tag` is a name only. Validation sums over the whole set,
    so the validation batch size cannot change the score."""

    def __init__(self, lr: float = 0.01, tag: str = ""):
        super().__init__()
        self.save_hyperparameters()
        self.linear = nn.Linear(8, 1)
        self._sums = [0.0, 0.0, 0.0, 0]  # squared error, sum y, sum y², count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("train/loss", loss)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._sums = [0.0, 0.0, 0.0, 0]

    def validation_step(self, batch, batch_idx):
        x, y = batch
        err = ((self(x) - y) ** 2).sum().item()
        s = self._sums
        s[0] += err
        s[1] += y.sum().item()
        s[2] += (y**2).sum().item()
        s[3] += len(y)

    def on_validation_epoch_end(self) -> None:
        sq, sy, syy, n = self._sums
        if not n:
            return
        mse = sq / n
        variance = max(syy / n - (sy / n) ** 2, 1e-12)
        self.log("val/loss", mse)
        self.log("val/score", 1.0 - mse / variance)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
