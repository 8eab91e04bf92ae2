"""Several workers on a Ray cluster train one LightningModule with Ray Train's Lightning integration.

Runs inside the job's worker process (the driver): a TorchTrainer starts `num_workers` processes,
each building the same Trainer with Ray's DDP strategy and cluster environment and reporting its
checkpoints to Ray Train. Rank 0 writes the fit's outcome into the run directory; the driver reads
it, so the run is recorded once.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

FIT_RESULT = "fit_result.json"


def _report_callback(every: int):
    """Ray's RayTrainReportCallback, reporting every `every` epochs (0: never mid-run) and always
    at the end of training. Each report saves and copies a checkpoint and waits for every worker
    (about 1 s here), so reporting every epoch of a small model made training 9× slower."""
    from ray.train.lightning import RayTrainReportCallback

    class ReportCheckpoints(RayTrainReportCallback):
        pending = False

        def on_train_epoch_end(self, trainer, pl_module):
            self.pending = not (every and (trainer.current_epoch + 1) % every == 0)
            if not self.pending:
                super().on_train_epoch_end(trainer, pl_module)

        def on_train_end(self, trainer, pl_module):
            if self.pending:  # the final weights always reach Ray Train
                super().on_train_epoch_end(trainer, pl_module)

    return ReportCheckpoints()


def _train_loop(config: dict) -> None:
    import ray.train
    from ray.train.lightning import RayDDPStrategy, RayLightningEnvironment, prepare_trainer

    from ...fileio import write_atomic
    from ...spec import RunSpec
    spec = RunSpec.from_json(config["spec"])
    overrides = {"strategy": RayDDPStrategy(), "plugins": [RayLightningEnvironment()], "devices": "auto",
                 "accelerator": "gpu" if config["use_gpu"] else "cpu"}
    result = config["fit"](spec, trainer_overrides=overrides, extra_callbacks=[_report_callback(config["report_every"])],
                           prepare=prepare_trainer)
    if ray.train.get_context().get_world_rank() == 0:
        write_atomic(Path(spec.run_dir) / FIT_RESULT, json.dumps(asdict(result)))


def fit_with_ray_train(spec, fit, workers: int):
    from ray.train import CheckpointConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from ...training.builder import FitResult
    from .backend import worker_resources
    c = spec.config.get("compute") or {}
    use_gpu = bool(c.get("use_gpu"))
    resources = {k: v for k, v in worker_resources(c).items() if v}
    trainer = TorchTrainer(
        _train_loop, train_loop_config={"spec": spec.to_json(), "fit": fit, "use_gpu": use_gpu,
                                        "report_every": int(c.get("checkpoint_every_n_epochs") or 0)},
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu, resources_per_worker=resources),
        run_config=RunConfig(storage_path=str(Path(spec.run_dir, "ray_train").resolve()), name=f"run-{spec.run_id}",
                             checkpoint_config=CheckpointConfig(num_to_keep=1)))  # one per epoch otherwise
    trainer.fit()
    return FitResult(**json.loads((Path(spec.run_dir) / FIT_RESULT).read_text()))
