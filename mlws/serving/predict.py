"""One prediction path for the server and the notebook API (`mlws.load_run(N).predict`), so both
answer the same for the same inputs: the model's forward, then the run's serve.output hook."""

from __future__ import annotations


def forward(model, x):
    import torch

    with torch.no_grad():
        return model(x)
