"""scikit-learn's bundled digits as a LightningDataModule, and a generic classifier module."""

from __future__ import annotations

from collections.abc import Callable

import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset


class DigitsDataModule(pl.LightningDataModule):
    """1,797 8x8 grey images of digits 0-9, split once by `split_seed` into train and validation."""

    input_shape = (1, 8, 8)  # one sample, as the model sees it (what serving's input hook expects)

    def __init__(
        self,
        batch_size: int = 64,
        val_fraction: float = 0.2,
        split_seed: int = 0,
        normalize: bool = False,
        augment_shift: int = 0,
        num_workers: int = 0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.train_set: TensorDataset | None = None
        self.val_set: TensorDataset | None = None

    @property
    def input_range(self) -> tuple[float, float]:
        return (0.0, 1.0) if self.hparams.normalize else (0.0, 16.0)

    def fingerprint(self) -> str:
        """What mlws records as the data this run saw: a hash of the arrays `setup` loads."""
        import hashlib

        from sklearn.datasets import load_digits

        digits = load_digits()
        h = hashlib.sha256()
        for array in (digits.images, digits.target):
            h.update(f"{array.dtype}{array.shape}".encode())
            h.update(array.tobytes())
        return f"sha256:{h.hexdigest()}"

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)  # N,1,8,8
        if self.hparams.normalize:
            images = images / 16.0
        labels = torch.tensor(digits.target, dtype=torch.long)
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(self.hparams.split_seed))
        n_val = int(round(len(labels) * self.hparams.val_fraction))
        val_idx, train_idx = order[:n_val], order[n_val:]
        self.train_set = TensorDataset(images[train_idx], labels[train_idx])
        self.val_set = TensorDataset(images[val_idx], labels[val_idx])

    def train_dataloader(self) -> DataLoader:
        shift = self.hparams.augment_shift
        return DataLoader(
            self.train_set,
            batch_size=self.hparams.batch_size,
            shuffle=True,
            num_workers=self.hparams.num_workers,
            collate_fn=_ShiftCollate(shift) if shift else None,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=256, num_workers=self.hparams.num_workers)


class _ShiftCollate:
    """Batches training images and translates each by up to `max_shift` pixels (zero fill)."""

    def __init__(self, max_shift: int):
        self.max_shift = max_shift

    def __call__(self, samples):
        images = torch.stack([s[0] for s in samples])
        labels = torch.stack([s[1] for s in samples])
        m = self.max_shift
        padded = F.pad(images, (m, m, m, m))
        out = torch.empty_like(images)
        offsets = torch.randint(0, 2 * m + 1, (len(samples), 2))
        for i, (dy, dx) in enumerate(offsets.tolist()):
            out[i] = padded[i, :, dy : dy + 8, dx : dx + 8]
        return out, labels


class DigitsClassifier(pl.LightningModule):
    """Cross-entropy classifier around any `net`; logs train/loss, val/loss and val/acc."""

    def __init__(
        self,
        net: nn.Module,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        label_smoothing: float = 0.0,
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"])
        self.net = net
        self.optimizer_factory = optimizer or torch.optim.Adam
        self.scheduler_factory = scheduler

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y, label_smoothing=self.hparams.label_smoothing)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val/acc", (logits.argmax(dim=1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": self.scheduler_factory(optimizer)}
