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


def ray_parts(pl, report_every: int, use_gpu: bool) -> tuple[dict, list]:
    """Ray Train's Lightning pieces (a DDP strategy and cluster environment that take ranks and
    devices from Ray Train's context, a callback reporting checkpoints), built on the run's own
    Lightning package `pl`. Ray's `ray.train.lightning` classes subclass whichever of
    `lightning.pytorch`/`pytorch_lightning` it imported first, and a Trainer of the other refuses them."""
    import importlib

    import ray.train
    import ray.train.torch

    class RayDDPStrategy(pl.strategies.DDPStrategy):
        @property
        def root_device(self):
            return ray.train.torch.get_device()

        @property
        def distributed_sampler_kwargs(self) -> dict:
            return {"num_replicas": self.world_size, "rank": self.global_rank}

    class RayEnvironment(importlib.import_module(f"{pl.__name__}.plugins.environments").LightningEnvironment):
        # Ray Train started the processes and the process group: its context is the truth
        def world_size(self) -> int:
            return ray.train.get_context().get_world_size()

        def global_rank(self) -> int:
            return ray.train.get_context().get_world_rank()

        def local_rank(self) -> int:
            return ray.train.get_context().get_local_rank()

        def node_rank(self) -> int:
            return ray.train.get_context().get_node_rank()

        def set_world_size(self, size: int) -> None:
            pass

        def set_global_rank(self, rank: int) -> None:
            pass

        def teardown(self) -> None:
            pass

    overrides = {
        "strategy": RayDDPStrategy(),
        "plugins": [RayEnvironment()],
        "devices": "auto",
        "accelerator": "gpu" if use_gpu else "cpu",
    }
    return overrides, [_report_callback(pl, report_every)]


def _report_callback(pl, every: int):
    """Reports the metrics and a checkpoint to Ray Train every `every` epochs (0: never mid-run) and
    always at the end of training. Each report saves and copies a checkpoint and waits for every
    worker (about 1 s here), so reporting every epoch of a small model made training 9× slower."""
    import shutil
    import tempfile

    import ray.train

    class ReportCheckpoints(pl.Callback):
        pending = False

        def __init__(self):
            self.tmp = tempfile.mkdtemp(prefix=f"mlws-ray-ckpt-{ray.train.get_context().get_world_rank()}-")

        def on_train_epoch_end(self, trainer, pl_module):
            self.pending = not (every and (trainer.current_epoch + 1) % every == 0)
            if not self.pending:
                self._report(trainer)

        def on_train_end(self, trainer, pl_module):
            if self.pending:  # the final weights always reach Ray Train
                self._report(trainer)
            shutil.rmtree(self.tmp, ignore_errors=True)

        def _report(self, trainer):
            folder = Path(self.tmp, str(trainer.current_epoch))
            folder.mkdir(exist_ok=True)
            metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
            metrics.update(epoch=trainer.current_epoch, step=trainer.global_step)
            trainer.save_checkpoint(str(folder / "checkpoint.ckpt"), weights_only=False)  # written by rank 0
            ray.train.report(metrics=metrics, checkpoint=ray.train.Checkpoint.from_directory(str(folder)))
            trainer.strategy.barrier()  # every worker reported before the folder goes
            shutil.rmtree(folder, ignore_errors=True)

    return ReportCheckpoints()


def _train_loop(config: dict) -> None:
    import ray.train

    from ...fileio import write_atomic
    from ...spec import RunSpec

    spec = RunSpec.from_json(config["spec"])
    result = config["fit"](spec, extend=lambda pl: ray_parts(pl, config["report_every"], config["use_gpu"]))
    if ray.train.get_context().get_world_rank() == 0:
        write_atomic(Path(spec.run_dir) / FIT_RESULT, json.dumps(asdict(result)))


def fit_with_ray_train(spec, fit, workers: int):
    from ray.train import CheckpointConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from ...training.builder import FitResult
    from .resources import worker_resources

    c = spec.config.get("compute") or {}
    use_gpu = bool(c.get("use_gpu"))
    resources = {k: v for k, v in worker_resources(c).items() if v}
    trainer = TorchTrainer(
        _train_loop,
        train_loop_config={
            "spec": spec.to_json(),
            "fit": fit,
            "use_gpu": use_gpu,
            "report_every": int(c.get("checkpoint_every_n_epochs") or 0),
        },
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu, resources_per_worker=resources),
        run_config=RunConfig(
            storage_path=str(Path(spec.run_dir, "ray_train").resolve()),
            name=f"run-{spec.run_id}",
            checkpoint_config=CheckpointConfig(num_to_keep=1),
        ),
    )  # one per epoch otherwise
    trainer.fit()
    return FitResult(**json.loads((Path(spec.run_dir) / FIT_RESULT).read_text()))
