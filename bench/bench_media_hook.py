"""Time the training thread spends in the media views' hook, per validation: drawing inline (what
the views did before the background renderer: collect, draw, write the PNG on the training thread)
against collect + hand-off to the renderer (the drawing goes on in its process). Confusion matrix and
worst-samples grid on a digits-sized validation set (360 samples of 8x8, 10 classes), in one run.
Independent of the training's own speed, so less noisy than bench_monitoring on a shared machine.
BENCH_ROUNDS sets the validations timed (7)."""

import os
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from mlws.training import media, media_draw

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))


def main() -> None:
    torch.manual_seed(0)
    preds = media.Predictions(torch.rand(360, 1, 8, 8), torch.randint(0, 10, (360,)), torch.randn(360, 10))
    views = [media.ConfusionMatrix(), media.WorstSamplesGrid()]
    with tempfile.TemporaryDirectory() as tmp:
        trainer = SimpleNamespace(
            default_root_dir=tmp, current_epoch=0, global_step=0, loggers=[], sanity_checking=False, is_global_zero=True
        )
        media.validation_predictions = lambda trainer, pl_module: preds  # the shared forward pass is not timed
        module = SimpleNamespace(log_dict=lambda scalars: None)
        inline, background = [], []
        box = media.outbox()
        box.renderer.submit(None, "mlws.training.media_draw:as_is", {"image": _pixel()}, f"{tmp}/warm.png")
        while not box.renderer.finished():  # a started child: its start-up (once per run) is not timed
            time.sleep(0.05)
        for epoch in range(ROUNDS):  # inline first: no background drawing competes with it
            started = time.perf_counter()
            for view in views:
                for name, drawing in view.collect(preds, None).items():
                    image = getattr(media_draw, drawing.function.split(":")[1])(**drawing.arguments)
                    media_draw.save_png(image, Path(tmp) / "inline" / name / f"epoch{epoch:03d}.png")
            inline.append(time.perf_counter() - started)
        for epoch in range(ROUNDS):
            trainer.current_epoch = trainer.global_step = epoch
            started = time.perf_counter()
            for view in views:
                view.on_validation_epoch_end(trainer, module)
            background.append(time.perf_counter() - started)
        started = time.perf_counter()
        box.close(trainer)
        flush = time.perf_counter() - started
    a, b = statistics.median(inline), statistics.median(background)
    print(f"media hook on the training thread, median of {ROUNDS} validations (2 views):")
    print(f"  drawn inline (before)        {1000 * a:8.1f} ms")
    print(f"  collect + hand-off (now)     {1000 * b:8.1f} ms")
    print(f"RATIO training-thread time now/before: {b / a:.3f}; wait for the last drawings at fit end {flush:.2f} s")


def _pixel():
    import numpy as np

    return np.zeros((1, 1, 3), dtype=np.uint8)


if __name__ == "__main__":
    main()
