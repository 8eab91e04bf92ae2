"""`mlws.load_run(N)`: a recorded run in a notebook, its model rebuilt from the recorded config and
loaded safely (plain weights only, as `mlws serve` does)."""

from __future__ import annotations


class LoadedRun:
    def __init__(self, record: dict):
        self.record = record
        self.id: int = record["id"]
        self.experiment = record.get("experiment")
        self.status = record.get("status")
        self.config: dict = record.get("config") or {}
        self.metrics: dict = record.get("metrics") or {}
        self.artifacts: dict = record.get("artifacts") or {}
        self._model = None
        self._hooks = None  # (serve.input, serve.output), built on the first predict

    @property
    def checkpoint(self):
        from ..serving.loading import checkpoint_path

        return checkpoint_path(self.record)

    @property
    def model(self):
        """The LightningModule with the best checkpoint's weights, in eval mode (loaded on first use)."""
        if self._model is None:
            from ..serving.loading import load_model

            self._model = load_model(self.config, self.checkpoint)
        return self._model

    def predict(self, inputs) -> dict:
        """What `mlws serve`'s /predict answers for {"inputs": inputs}: samples go through the run's
        own serve.input hook (a tensor is used as it is)."""
        from ..serving.loading import input_hook, output_hook
        from ..serving.predict import forward

        if self._hooks is None:
            self._hooks = (input_hook(self.config, self.artifacts), output_hook(self.config))
        to_tensor, to_answer = self._hooks
        if hasattr(inputs, "tolist") and not _is_tensor(inputs):
            inputs = inputs.tolist()  # numpy
        if not _is_tensor(inputs):
            inputs = to_tensor(list(inputs))
        return to_answer(forward(self.model, inputs))

    def __repr__(self) -> str:
        metric = (self.config.get("monitor") or {}).get("metric")
        shown = f" {metric}={self.metrics[metric]:.4f}" if metric in self.metrics else ""
        return f"<run {self.id}: {self.experiment} ({self.status}){shown}>"


def _is_tensor(value) -> bool:
    return type(value).__module__.startswith("torch")
