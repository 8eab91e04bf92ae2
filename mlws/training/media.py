"""Evaluation views as Lightning callbacks: images (PNG in the run dir, and W&B) and scalars.

A new view is one small MediaCallback subclass plus one YAML file in conf/callbacks/: either
`render` (draws on the training thread; its images are still written off it), or `collect` (cheap,
on the training thread: small arrays taken from the predictions and the model) returning `Drawing`s
that a background process draws (media_worker.py), so training goes on meanwhile. Views assume
validation batches are (inputs, targets) and that the module's forward returns class scores (or,
for generative models, images).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .flavour import Hooks
from .media_draw import figure_to_array, new_figure
from .media_worker import new_renderer

__all__ = ["MediaCallback", "Drawing", "Predictions", "figure_to_array", "new_figure"]


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


@dataclass
class Drawing:
    """An image to draw off the training thread: `function` ("module:name", importable without
    torch) called with `arguments` (numpy arrays, numbers, strings) returns an HxWx3 uint8 array."""

    function: str
    arguments: dict = field(default_factory=dict)


class MediaOutbox:
    """The run's background renderer, shared by its views, and the W&B logging of what it drew.

    Loggers are called on the training thread only (at each validation and at the end), with the
    step each image was collected at. A drawing that fails is reported once per view; training goes
    on."""

    STOP_GRACE_S = 5.0  # a stopped run waits this long for its outstanding drawings
    END_GRACE_S = 600.0  # a run that ends normally waits for all of them

    def __init__(self):
        self.renderer = new_renderer()  # a drawing process where the run has a core to spare
        self.reported: set[str] = set()

    def submit(self, trainer, name: str, drawing: Drawing) -> None:
        folder = Path(trainer.default_root_dir) / "media" / name.replace("/", "_")
        path = folder / f"epoch{trainer.current_epoch:03d}.png"
        self.renderer.submit((name, trainer.global_step), drawing.function, drawing.arguments, str(path))

    def log_finished(self, trainer) -> None:
        self._log(trainer, self.renderer.finished())

    def close(self, trainer, stopping: bool = False) -> None:
        self._log(trainer, self.renderer.close(self.STOP_GRACE_S if stopping else self.END_GRACE_S))
        self.reported.clear()  # once per run

    def _log(self, trainer, done) -> None:
        for item in done:
            name, step = item.tag
            if item.error is not None:
                if name not in self.reported:
                    self.reported.add(name)
                    print(f"mlws: media view {name!r} was not drawn: {item.error}", file=sys.stderr)
                continue
            for logger in trainer.loggers:
                if hasattr(logger, "log_image"):  # WandbLogger (and others that take images)
                    logger.log_image(key=f"media/{name}", images=[item.path], step=step)


_OUTBOX: MediaOutbox | None = None


def outbox() -> MediaOutbox:
    global _OUTBOX
    if _OUTBOX is None:
        _OUTBOX = MediaOutbox()
    return _OUTBOX


class MediaCallback(Hooks):
    """Every `every_n_epochs` validations: collect → drawings and scalars → run dir and loggers."""

    def __init__(self, every_n_epochs: int = 1):
        self.every_n_epochs = every_n_epochs

    def render(self, preds: Predictions, pl_module) -> dict:
        """{name: HxWx3 uint8 array (an image) or float (a scalar)}, on the training thread."""
        raise NotImplementedError

    def collect(self, preds: Predictions, pl_module) -> dict:
        """{name: Drawing (drawn in the background) or float (a scalar)}, on the training thread.
        By default the view's `render`, whose images are written in the background."""
        out = self.render(preds, pl_module)
        return {
            k: Drawing("mlws.training.media_draw:as_is", {"image": v}) if isinstance(v, np.ndarray) else v
            for k, v in out.items()
        }

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        outbox().log_finished(trainer)
        if trainer.current_epoch % self.every_n_epochs:
            return
        outputs = self.collect(validation_predictions(trainer, pl_module), pl_module)
        scalars = {k: float(v) for k, v in outputs.items() if not isinstance(v, Drawing)}
        if scalars:
            # logged through Lightning so they reach every logger and metrics.jsonl
            pl_module.log_dict(scalars)
        for name, drawing in outputs.items():
            if isinstance(drawing, Drawing):
                outbox().submit(trainer, name, drawing)

    # after on_train_end (where the run's timing is taken) and before the run's summary
    def on_fit_end(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            outbox().close(trainer)

    def on_exception(self, trainer, pl_module, exception) -> None:
        if trainer.is_global_zero:
            outbox().close(trainer, stopping=True)


class ConfusionMatrix(MediaCallback):
    def collect(self, preds: Predictions, pl_module) -> dict:
        n = preds.outputs.shape[1]
        predicted = preds.outputs.argmax(dim=1)
        matrix = torch.zeros(n, n, dtype=torch.long)
        matrix.index_put_((preds.targets, predicted), torch.ones_like(predicted), accumulate=True)
        return {"confusion_matrix": Drawing("mlws.training.media_draw:confusion_matrix", {"matrix": matrix.numpy()})}


class WorstSamplesGrid(MediaCallback):
    """The misclassified validation images with the highest loss, titled true → predicted."""

    def __init__(self, count: int = 16, every_n_epochs: int = 1):
        super().__init__(every_n_epochs)
        self.count = count

    def collect(self, preds: Predictions, pl_module) -> dict:
        losses = torch.nn.functional.cross_entropy(preds.outputs, preds.targets, reduction="none")
        predicted = preds.outputs.argmax(dim=1)
        wrong = (predicted != preds.targets).nonzero().flatten()
        worst = wrong[losses[wrong].argsort(descending=True)][: self.count].tolist()
        drawing = Drawing(
            "mlws.training.media_draw:image_grid",
            {
                "images": [preds.inputs[i].numpy() for i in worst],
                "titles": [f"{int(preds.targets[i])}→{int(predicted[i])}" for i in worst],
                "suptitle": f"{len(wrong)} misclassified; worst {len(worst)}",
            },
        )
        return {"worst_samples": drawing}


class ClassMetrics(MediaCallback):
    """Precision and recall of the named classes, e.g. the digits people confuse (3, 5, 8)."""

    def __init__(self, classes: list[int], every_n_epochs: int = 1):
        super().__init__(every_n_epochs)
        self.classes = list(classes)

    def collect(self, preds: Predictions, pl_module) -> dict:
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

    def collect(self, preds: Predictions, pl_module) -> dict:
        real = preds.inputs[: self.count]
        with torch.no_grad():
            make = getattr(pl_module, "generate", pl_module)
            fake = make(real.to(pl_module.device)).cpu().reshape(real.shape)
        drawing = Drawing("mlws.training.media_draw:real_vs_generated", {"real": real.numpy(), "fake": fake.numpy()})
        return {"real_vs_generated": drawing}
