"""Drawing the media views' images from small numpy arrays: matplotlib and PIL, never torch.

These functions run in the background renderer's process (media_worker.py), off the training loop,
so this module imports nothing heavier than numpy at load time."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


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


def save_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Written via a temporary file and a rename: a stop never leaves half a PNG."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    Image.fromarray(image).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def as_is(image: np.ndarray) -> np.ndarray:
    """A view that rendered its image itself (the `render` API): nothing left to draw."""
    return image


def confusion_matrix(matrix: np.ndarray) -> np.ndarray:
    n = matrix.shape[0]
    fig, axes = new_figure(1, 1, figsize=(5, 5))
    ax = axes[0, 0]
    ax.imshow(matrix, cmap="Blues")
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
    return figure_to_array(fig)


def image_grid(images: list, titles: list[str], suptitle: str, cols: int = 8) -> np.ndarray:
    """Images (each squeezed to HxW) in rows of `cols`, each titled; empty cells left blank."""
    rows = max(1, -(-len(images) // cols))
    fig, axes = new_figure(rows, cols, figsize=(cols * 1.2, rows * 1.4))
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles):
        ax.imshow(np.squeeze(image), cmap="gray_r")
        ax.set_title(title, fontsize=9)
    fig.suptitle(suptitle, fontsize=9)
    return figure_to_array(fig)


def real_vs_generated(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    fig, axes = new_figure(2, len(real), figsize=(len(real) * 1.1, 2.4))
    for j in range(len(real)):
        for row, images in enumerate((real, fake)):
            axes[row, j].imshow(np.squeeze(images[j]), cmap="gray_r")
            axes[row, j].axis("off")
    axes[0, 0].set_title("real", fontsize=8, loc="left")
    axes[1, 0].set_title("generated", fontsize=8, loc="left")
    return figure_to_array(fig)
