"""Evaluation views as Lightning callbacks: images (PNG in the run dir, and W&B) and scalars.

A new view is one small MediaCallback subclass with `render` plus one YAML file in
conf/callbacks/. Views assume validation batches are (inputs, targets) and that the module's
forward returns class scores (or, for generative models, images).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .flavour import Hooks


@dataclass
class Predictions:
    """One pass over the validation set: inputs, targets and model outputs, on the CPU."""

    inputs: torch.Tensor
    targets: torch.Tensor
    outputs: torch.Tensor


def validation_predictions(trainer, pl_module) -> Predictions:
    """Computed once per validation and shared by every view."""
    cached = getattr(pl_module, "_mlws_predictions", None)
    if cached and cached[0] == trainer.global_step:
        return cached[1]
    xs, ys, outs = [], [], []
    was_training = pl_module.training
    pl_module.eval()
    with torch.no_grad():
        for x, y in trainer.datamodule.val_dataloader():
            xs.append(x)
            ys.append(y)
            outs.append(_forward(pl_module, x.to(pl_module.device)).cpu())
    pl_module.train(was_training)
    preds = Predictions(torch.cat(xs), torch.cat(ys), torch.cat(outs))
    pl_module._mlws_predictions = (trainer.global_step, preds)
    return preds


def _forward(pl_module, x):
    return pl_module(x)


class MediaCallback(Hooks):
    """Every `every_n_epochs` validations: render → images and scalars → run dir and loggers."""

    def __init__(self, every_n_epochs: int = 1):
        self.every_n_epochs = every_n_epochs

    def render(self, preds: Predictions, pl_module) -> dict:
        """{name: HxWx3 uint8 array (an image) or float (a scalar)}."""
        raise NotImplementedError

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        if trainer.current_epoch % self.every_n_epochs:
            return
        outputs = self.render(validation_predictions(trainer, pl_module), pl_module)
        scalars = {k: float(v) for k, v in outputs.items() if not isinstance(v, np.ndarray)}
        if scalars:
            # logged through Lightning so they reach every logger and metrics.jsonl
            pl_module.log_dict(scalars)
        for name, image in outputs.items():
            if isinstance(image, np.ndarray):
                log_image(trainer, name, image)


def log_image(trainer, name: str, image: np.ndarray) -> Path:
    from PIL import Image

    folder = Path(trainer.default_root_dir) / "media" / name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"epoch{trainer.current_epoch:03d}.png"
    Image.fromarray(image).save(path)
    for logger in trainer.loggers:
        if hasattr(logger, "log_image"):  # WandbLogger (and others that take images)
            logger.log_image(key=f"media/{name}", images=[str(path)], step=trainer.global_step)
    return path


def figure_to_array(fig) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def new_figure(rows: int, cols: int, figsize, dpi: int = 80):
    """A matplotlib Figure without pyplot: no GUI backend, no global figure registry."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.subplots(rows, cols, squeeze=False)


class ConfusionMatrix(MediaCallback):
    def render(self, preds: Predictions, pl_module) -> dict:
        n = preds.outputs.shape[1]
        predicted = preds.outputs.argmax(dim=1)
        matrix = torch.zeros(n, n, dtype=torch.long)
        matrix.index_put_((preds.targets, predicted), torch.ones_like(predicted), accumulate=True)
        fig, axes = new_figure(1, 1, figsize=(5, 5))
        ax = axes[0, 0]
        ax.imshow(matrix.numpy(), cmap="Blues")
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    ax.text(
                        j,
                        i,
                        int(matrix[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black",
                    )
        ax.set(xlabel="predicted", ylabel="true", xticks=range(n), yticks=range(n), title="confusion matrix")
        return {"confusion_matrix": figure_to_array(fig)}


class WorstSamplesGrid(MediaCallback):
    """The misclassified validation images with the highest loss, titled true → predicted."""

    def __init__(self, count: int = 16, every_n_epochs: int = 1):
        super().__init__(every_n_epochs)
        self.count = count

    def render(self, preds: Predictions, pl_module) -> dict:
        losses = torch.nn.functional.cross_entropy(preds.outputs, preds.targets, reduction="none")
        predicted = preds.outputs.argmax(dim=1)
        wrong = (predicted != preds.targets).nonzero().flatten()
        worst = wrong[losses[wrong].argsort(descending=True)][: self.count].tolist()
        cols = 8
        rows = max(1, -(-len(worst) // cols))
        fig, axes = new_figure(rows, cols, figsize=(cols * 1.2, rows * 1.4))
        for ax in axes.flat:
            ax.axis("off")
        for ax, i in zip(axes.flat, worst):
            ax.imshow(preds.inputs[i].squeeze().numpy(), cmap="gray_r")
            ax.set_title(f"{int(preds.targets[i])}→{int(predicted[i])}", fontsize=9)
        fig.suptitle(f"{len(wrong)} misclassified; worst {len(worst)}", fontsize=9)
        return {"worst_samples": figure_to_array(fig)}


class ClassMetrics(MediaCallback):
    """Precision and recall of the named classes, e.g. the digits people confuse (3, 5, 8)."""

    def __init__(self, classes: list[int], every_n_epochs: int = 1):
        super().__init__(every_n_epochs)
        self.classes = list(classes)

    def render(self, preds: Predictions, pl_module) -> dict:
        predicted = preds.outputs.argmax(dim=1)
        out = {}
        for c in self.classes:
            tp = int(((predicted == c) & (preds.targets == c)).sum())
            out[f"class/{c}/precision"] = tp / max(int((predicted == c).sum()), 1)
            out[f"class/{c}/recall"] = tp / max(int((preds.targets == c).sum()), 1)
        return out


class RealVsGeneratedGrid(MediaCallback):
    """Top row: real validation images; bottom row: what the model generates for them."""

    def __init__(self, count: int = 8, every_n_epochs: int = 1):
        super().__init__(every_n_epochs)
        self.count = count

    def render(self, preds: Predictions, pl_module) -> dict:
        real = preds.inputs[: self.count]
        with torch.no_grad():
            make = getattr(pl_module, "generate", pl_module)
            fake = make(real.to(pl_module.device)).cpu().reshape(real.shape)
        fig, axes = new_figure(2, len(real), figsize=(len(real) * 1.1, 2.4))
        for j in range(len(real)):
            for row, images in enumerate((real, fake)):
                axes[row, j].imshow(images[j].squeeze().numpy(), cmap="gray_r")
                axes[row, j].axis("off")
        axes[0, 0].set_title("real", fontsize=8, loc="left")
        axes[1, 0].set_title("generated", fontsize=8, loc="left")
        return {"real_vs_generated": figure_to_array(fig)}
