"""The source of small user projects that tests write into a workspace (no test module imports another)."""

# A LightningModule as the most used Lightning + Hydra template writes it (tests/e2e/test_template_module.py)
TEMPLATE_MODULE = """
import torch
from lightning import LightningModule
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy


class LitDigits(LightningModule):
    def __init__(self, net: torch.nn.Module, optimizer, scheduler=None, compile: bool = False):
        super().__init__()
        self.save_hyperparameters(logger=False)  # net, partials and all: as the template does
        self.net = net
        self.criterion = torch.nn.CrossEntropyLoss()
        self.val_acc = MulticlassAccuracy(num_classes=10, average="micro")
        self.val_loss = MeanMetric()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_loss(self.criterion(logits, y))
        self.val_acc(logits.argmax(dim=1), y)
        self.log("val/loss", self.val_loss, on_epoch=True)
        self.log("val/acc", self.val_acc, on_epoch=True)

    def configure_optimizers(self):
        optimizer = self.hparams.optimizer(params=self.parameters())
        if self.hparams.scheduler is None:
            return {"optimizer": optimizer}
        scheduler = self.hparams.scheduler(optimizer=optimizer)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "monitor": "val/loss", "interval": "epoch", "frequency": 1}}
"""

TEMPLATE_DATA = '''
import lightning as L
import torch
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset


class DigitsData(L.LightningDataModule):
    """The template\'s data module shape: setup() splits, loaders from hparams."""
    input_shape = (1, 8, 8)

    def __init__(self, batch_size: int = 64, normalize: bool = False):
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.train_set = self.val_set = None

    @property
    def input_range(self):
        return (0.0, 1.0) if self.hparams.normalize else (0.0, 16.0)

    def setup(self, stage=None):
        if self.train_set is None:
            digits = load_digits()
            x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
            x = x / 16.0 if self.hparams.normalize else x
            y = torch.tensor(digits.target)
            order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
            val, train = order[:360], order[360:]
            self.train_set, self.val_set = TensorDataset(x[train], y[train]), TensorDataset(x[val], y[val])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=256)
'''

DATA_CONFIG = "_target_: acme.data.DigitsData\nbatch_size: 64\nnormalize: false\n"

MODEL_CONFIG = """_target_: acme.lit.LitDigits
net:
  _target_: mlws.examples.nets.CNN
  num_classes: 10
  channels: [8, 16]
  hidden: 32
optimizer:
  _target_: torch.optim.Adam
  _partial_: true
  lr: 0.003
  weight_decay: 0.0
scheduler:
  _target_: torch.optim.lr_scheduler.ReduceLROnPlateau
  _partial_: true
  mode: min
  factor: 0.1
  patience: 10
compile: false
"""


# A user's own package: a model and data module of their own (tests/e2e/test_user_module.py)
USER_CODE = '''
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class LineData(pl.LightningDataModule):
    """y = 3x - 1 plus noise."""
    input_shape = (1,)          # what serving takes when serve.input leaves its shape unset
    input_range = (-5.0, 5.0)
    def __init__(self, n: int = 256, noise: float = 0.1, batch_size: int = 32):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        x = torch.randn(n, 1, generator=g)
        y = 3 * x - 1 + noise * torch.randn(n, 1, generator=g)
        self.train_set, self.val_set = TensorDataset(x[:200], y[:200]), TensorDataset(x[200:], y[200:])
        self.batch_size = batch_size

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=64)


class Regressor(pl.LightningModule):
    def __init__(self, lr: float = 0.1):
        super().__init__()
        self.lr = lr
        self.layer = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.layer(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/mse", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)
'''
