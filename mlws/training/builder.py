"""RunSpec -> Lightning objects via Hydra's instantiate -> fit -> metrics and artifact paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunFailed
from ..spec import RunSpec
from .recorder import scalar_metrics


@dataclass
class FitResult:
    metrics: dict
    artifacts: dict
    interrupted: bool = False
    stop_reason: str | None = None  # a guard (early stopping, time limit) ended training


def _instantiate(node: dict, where: str, **kwargs):
    """hydra.utils.instantiate with a message that names the config key when a target fails."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        # Hydra says "Error locating target 'acme.data.X'" (with the nested key, if any); the cause
        # (a missing package, a syntax error in the user's file, a wrong argument) ends its chain.
        import re

        text = str(e)
        target = re.search(r"(?:locating|call to) target '([^']+)'", text)
        key = re.search(r"full_key: (\S+)", text)
        where = f"{where}.{key.group(1)}" if key else where
        target = target.group(1) if target else node.get("_target_")
        raise RunFailed(f"{where}: cannot build {target!r}: {root_cause(e)}") from e


def root_cause(error: BaseException) -> str:
    """The innermost exception of a chain, in one line: `ModuleNotFoundError: No module named 'x'`."""
    seen, cause = set(), error
    while cause.__cause__ is not None and id(cause) not in seen:  # `raise ... from`: the wrapped cause
        seen.add(id(cause))
        cause = cause.__cause__
    if cause is error:  # no chain: Hydra's own message, without its HYDRA_FULL_ERROR advice
        return str(error).strip().splitlines()[0].split(", set env var HYDRA_FULL_ERROR")[0].rstrip(",. ")
    text = " ".join(str(cause).split())
    if isinstance(cause, SyntaxError) and cause.filename:
        text = f"{cause.msg} ({cause.filename}, line {cause.lineno})"
    return f"{type(cause).__name__}: {text}"[:500]


def build_callbacks(cfg: dict, run_dir: Path, pl) -> list:
    """The configured callbacks and mlws's own, all of the run's Lightning package `pl`."""
    from .flavour import adopt, retargeted
    from .hardware import HardwareMonitor
    from .last_checkpoint import keep_last_current
    from .recorder import RunRecorder
    from .uninterrupted import save_uninterrupted

    callbacks = []
    for name, node in (cfg.get("callbacks") or {}).items():
        if not node or not node.get("_target_"):
            continue
        cb = adopt(_instantiate(retargeted(node, pl.__name__), f"callbacks.{name}"), pl, f"callbacks.{name}")
        if isinstance(cb, pl.callbacks.ModelCheckpoint):
            if cb.dirpath is None:
                cb.dirpath = str(run_dir / "checkpoints")
            if cfg.get("safe_weights", True):
                from .safe_weights import add_safe_weights

                add_safe_weights(cb)
            keep_last_current(cb)
            save_uninterrupted(cb)
        callbacks.append(cb)
    compute = cfg.get("compute") or {}
    if compute.get("max_runtime_minutes"):
        callbacks.append(
            pl.callbacks.Timer(duration={"minutes": float(compute["max_runtime_minutes"])}, interval="step")
        )
    interval = float((cfg.get("monitor") or {}).get("hardware_interval_s", 2.0))
    if interval > 0:
        callbacks.append(adopt(HardwareMonitor(run_dir, interval_s=interval), pl, "hardware"))
    callbacks.append(adopt(RunRecorder(run_dir), pl, "recorder"))
    if cfg.get("monitor"):
        from .monitored import MonitoredMetrics

        callbacks.append(adopt(MonitoredMetrics(cfg["monitor"]), pl, "monitored metrics"))
    if (cfg.get("trainer") or {}).get("enable_model_summary", True) is not False and not any(
        isinstance(cb, pl.callbacks.ModelSummary) for cb in callbacks
    ):
        # the plain summary logs (to the run's log); the rich one Lightning picks prints to the terminal
        callbacks.append(pl.callbacks.ModelSummary(max_depth=1))
    return callbacks


def build_logger(spec: RunSpec, run_dir: Path, package: str):
    """The configured Lightning logger (of the run's Lightning package), constructed directly: its
    kwargs hold the run's config, whose `_target_` nodes must reach W&B as text, not be instantiated."""
    from hydra.utils import get_class

    from .flavour import retarget

    node = dict(spec.config.get("logger") or {})
    target = node.pop("_target_", None)
    target = target and retarget(target, package)
    if not target:
        return None
    try:
        cls = get_class(target)
    except Exception as e:
        raise RunFailed(f"logger._target_: cannot import {target!r}: {e}") from e
    if target.endswith("WandbLogger"):
        import wandb

        from .wandb_mode import resolve_mode

        node["mode"] = resolve_mode(node.get("mode"))
        node.setdefault("name", f"run-{spec.run_id}" + (f"-{spec.experiment}" if spec.experiment else ""))
        node.setdefault("tags", ([spec.experiment] if spec.experiment else []) + list(spec.labels))
        node.setdefault("notes", spec.note or spec.config.get("description"))
        node["config"] = {
            **spec.config,
            "mlws": {"run_id": spec.run_id, "overrides": list(spec.overrides), "git": spec.git},
        }
        node["settings"] = wandb.Settings(silent=True, console="off")
        if (run_dir / "checkpoints" / "last.ckpt").exists():  # carrying on (mlws resume): the same W&B run
            from .resuming import wandb_resume

            node.update(wandb_resume(run_dir))
    node["save_dir"] = str(run_dir)
    logger = cls(**node)
    init = getattr(logger, "_wandb_init", None)
    if isinstance(init, dict):
        # WandbLogger passes `anonymous` (W&B warns it has no effect, whatever its value) and
        # resume="allow" (W&B warns it is ignored offline): neither does anything for this run.
        init.pop("anonymous", None)
        if "offline" in (node.get("mode"), os.environ.get("WANDB_MODE")):
            init.pop("resume", None)
    return logger


def fit(spec: RunSpec, extend=None) -> FitResult:
    """Train the run. A compute backend may add Trainer arguments and callbacks, built for the run's
    Lightning package: `extend(pl) -> (trainer arguments, callbacks)` (a DDP strategy, Ray Train's).
    The libraries' notices and warnings go to RUN_DIR/train.log (mlws/training/quiet.py)."""

    from .quiet import chatter_to_log

    with chatter_to_log(spec.run_dir) as log:
        result = _fit(spec, extend, log)
    result.artifacts["log"] = log.stats["path"]
    result.artifacts["warnings"] = log.stats["warnings"]
    return result


def _fit(spec: RunSpec, extend, log) -> FitResult:
    import pytorch_lightning

    from . import flavour

    cfg, run_dir = spec.config, Path(spec.run_dir)
    pytorch_lightning.seed_everything(int(cfg.get("seed", 0)), workers=True, verbose=False)  # either package's
    datamodule = _instantiate(cfg["data"], "data")
    model = _instantiate(cfg["model"], "model")
    package = flavour.package_of(model)
    flavour.check_data(datamodule, package)
    pl = flavour.load(package)
    log.claim()  # the package's first import gave its logger a terminal handler
    overrides, extra_callbacks = extend(pl) if extend is not None else ({}, [])
    from .exact import trainer_arguments
    from .resuming import RngState

    overrides = {**trainer_arguments(), **overrides}  # rerun --exact: deterministic algorithms
    callbacks = build_callbacks(cfg, run_dir, pl) + list(extra_callbacks) + [flavour.adopt(RngState(), pl, "rng state")]
    logger = build_logger(spec, run_dir, package)
    trainer = _instantiate(
        flavour.retargeted(cfg["trainer"], package),
        "trainer",
        callbacks=callbacks,
        logger=logger if logger is not None else False,
        default_root_dir=str(run_dir),
        **overrides,
    )
    if trainer.is_global_zero:  # one line in mlws's words where Lightning printed several
        import torch

        print(
            f"run {spec.run_id}: training on {trainer.strategy.root_device} (GPU available: "
            f"{'yes' if torch.cuda.is_available() else 'no'}); notices and warnings: {log.stats['path']}",
            flush=True,
        )
    # After a spot preemption SkyPilot reruns the job on a new VM: carry on from the last checkpoint.
    # It is this run's own file, so its pickled hyperparameters (a `net`, partials) may load; nothing
    # else ever reads a .ckpt this way (inference reads the safetensors weights).
    last = run_dir / "checkpoints" / "last.ckpt"
    if last.exists():  # said on the terminal: Lightning's own notice of it goes to the run's log
        from .resuming import before_resume

        before_resume(run_dir, last)  # metrics past the checkpoint are written again, once
        print(
            f"Restoring states from the checkpoint path {last} (the run was stopped or preempted: it "
            "carries on from there)",
            flush=True,
        )
    ok, stopped = False, False
    try:
        trainer.fit(
            model,
            datamodule=datamodule,
            ckpt_path=str(last) if last.exists() else None,
            weights_only=False if last.exists() else None,
        )
        ok = True
    except (KeyboardInterrupt, SystemExit):
        # A stop the user asked for (Lightning turns Ctrl-C and SIGTERM into a graceful shutdown, then
        # SystemExit): the run is recorded like a finished one, metrics and best checkpoint included,
        # and W&B records a finished run tagged "stopped".
        ok = stopped = True
    finally:
        reason = _guard_stop_reason(trainer, pl)
        if stopped or trainer.interrupted or reason:
            _tag_wandb("stopped")
        _finish_wandb(logger, ok)
    artifacts = {
        **_artifacts(trainer, logger, run_dir, pl),
        "lightning": f"{package} {pl.__version__}",
        **_data_input(datamodule),
    }
    return FitResult(
        metrics=scalar_metrics(trainer.callback_metrics),
        artifacts=artifacts,
        interrupted=stopped or trainer.interrupted,
        stop_reason=reason,
    )


def _data_input(datamodule) -> dict:
    """What the data module says of one sample (optional `input_shape`, `input_range` = (low, high)),
    kept for serving: a serve.input hook that leaves its shape or range unset takes these."""
    shape, bounds = getattr(datamodule, "input_shape", None), getattr(datamodule, "input_range", None)
    out = {}
    if shape is not None:
        out["shape"] = [int(d) for d in shape]
    if bounds is not None:
        out["min_value"], out["max_value"] = (float(v) for v in bounds)
    return {"input": out} if out else {}


def _guard_stop_reason(trainer, pl) -> str | None:
    for cb in trainer.callbacks:
        if isinstance(cb, pl.callbacks.EarlyStopping) and cb.stopped_epoch > 0:
            return f"no improvement in {cb.monitor} for {cb.patience} evaluations (early stopping)"
        if isinstance(cb, pl.callbacks.Timer) and (cb.time_remaining("train") or 0) <= 0:
            return f"time limit of {cb._duration:.0f} s reached"
        if getattr(cb, "stop_reason", None):
            return cb.stop_reason
    return None


def _artifacts(trainer, logger, run_dir: Path, pl) -> dict:
    out: dict = {"run_dir": str(run_dir), "checkpoints": {}}
    for cb in trainer.callbacks:
        if isinstance(cb, pl.callbacks.ModelCheckpoint):
            if cb.best_model_path:
                out["checkpoints"]["best"] = cb.best_model_path
                if cb.best_model_score is not None:
                    out["checkpoints"]["best_score"] = float(cb.best_model_score)
            if cb.last_model_path:
                out["checkpoints"]["last"] = cb.last_model_path
    last = run_dir / "checkpoints" / "last.ckpt"
    if "last" not in out["checkpoints"] and last.exists():
        out["checkpoints"]["last"] = str(last)
    media = run_dir / "media"  # the media callbacks' images, one folder per view
    if media.is_dir():
        out["media"] = {p.name: str(p) for p in sorted(media.iterdir()) if p.is_dir()}
    wandb_dir = run_dir / "wandb"
    if wandb_dir.is_dir():
        runs = sorted(p for p in wandb_dir.iterdir() if p.is_dir() and "run-" in p.name)
        if runs:
            out["wandb_dir"] = str(runs[-1])
    if logger is not None and type(logger).__name__ == "WandbLogger":
        init = getattr(logger, "_wandb_init", {})
        out["wandb_mode"] = os.environ.get("WANDB_MODE") or init.get("mode")
        out["wandb"] = {
            "mode": out["wandb_mode"],
            "id": getattr(logger, "version", None),
            "project": init.get("project"),
            "entity": init.get("entity"),
        }
    return out


def _tag_wandb(tag: str) -> None:
    import sys

    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None and tag not in (wandb.run.tags or ()):
        wandb.run.tags = (*(wandb.run.tags or ()), tag)


def _finish_wandb(logger, ok: bool) -> None:
    """Close the W&B run (flushing offline files) with the right exit state."""
    if logger is None or type(logger).__name__ != "WandbLogger":
        return
    import wandb

    if wandb.run is not None:
        wandb.finish(exit_code=0 if ok else 1)
