"""Model outputs → the JSON answer, per request: the `serve.output` hook (`_target_` in the run's
config), as `serve.input` turns JSON into the model's input. Pick the one for the task, or write
your own: a class whose instances are called with the model's output for one request's samples."""

from __future__ import annotations


class Classification:
    """Logits → class probabilities (softmax) and the most likely class per sample."""

    kind = "classification"

    def __call__(self, outputs) -> dict:
        import torch

        probs = torch.softmax(outputs, dim=-1)
        return {"predictions": probs.argmax(dim=-1).tolist(), "probabilities": probs.tolist()}


class Regression:
    """The model's values as they are (one number per sample when the model outputs one)."""

    kind = "regression"

    def __call__(self, outputs) -> dict:
        values = outputs.squeeze(-1) if outputs.dim() > 1 and outputs.shape[-1] == 1 else outputs
        return {"predictions": values.tolist()}


class Raw:
    """The output tensor as nested lists (embeddings, several heads, anything else)."""

    kind = "raw"

    def __call__(self, outputs) -> dict:
        return {"outputs": outputs.tolist()}
