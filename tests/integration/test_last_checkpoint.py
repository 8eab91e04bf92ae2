"""last.ckpt is where the run got to, not where it was best: Lightning 2.6 writes it only in a step
that saved a top-k file, so an epoch that did not improve left it (and its weights) at the best
epoch. Real Lightning, the run's callbacks as mlws builds them, a tiny module whose validation
metric follows a fixed schedule (best at epoch 1 of 4)."""

import pytorch_lightning as pl
import torch

from mlws.training.builder import build_callbacks

SCHEDULE = [0.5, 0.9, 0.3, 0.2]  # val/acc by epoch: best at 1, then worse


class Scheduled(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        self.log("val/acc", SCHEDULE[self.current_epoch])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def loader():
    data = torch.utils.data.TensorDataset(torch.randn(8, 2))
    return torch.utils.data.DataLoader(data, batch_size=4)


def test_last_ckpt_follows_the_run_while_best_stays_at_the_best_epoch(tmp_path):
    cfg = {
        "callbacks": {
            "model_checkpoint": {
                "_target_": "pytorch_lightning.callbacks.ModelCheckpoint",
                "monitor": "val/acc",
                "mode": "max",
                "save_top_k": 1,
                "save_last": True,
                "filename": "best-epoch{epoch:02d}",
                "auto_insert_metric_name": False,
            }
        }
    }
    from mlws.training.flavour import adopt
    from mlws.training.resuming import RngState

    callbacks = build_callbacks(cfg, tmp_path, pl) + [adopt(RngState(), pl, "rng state")]  # as fit() adds it
    trainer = pl.Trainer(
        max_epochs=len(SCHEDULE),
        callbacks=callbacks,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
        num_sanity_val_steps=0,
    )
    trainer.fit(Scheduled(), loader(), loader())
    folder = tmp_path / "checkpoints"
    # plain data only, generator states included: a checkpoint loads without running pickled code
    last = torch.load(folder / "last.ckpt", weights_only=True)
    assert "mlws.RngState" in str(last["callbacks"].keys())
    assert last["epoch"] == len(SCHEDULE) - 1 and last["global_step"] == trainer.global_step
    best = torch.load(folder / "best-epoch01.ckpt", weights_only=False)
    assert best["epoch"] == 1
    # the weights beside each (what serving and mlws.load_run read) are each file's own
    from safetensors.torch import load_file

    final = {k: v for k, v in Scheduled().state_dict().items()}
    assert load_file(folder / "last.safetensors").keys() == final.keys()
    assert not torch.equal(
        load_file(folder / "last.safetensors")["layer.weight"],
        load_file(folder / "best-epoch01.safetensors")["layer.weight"],
    )
