"""`mlws init`: a working workspace in an existing repository, pointing at the user's own
LightningModule and DataModule; mlws's building blocks come from the package (pkg://mlws.conf).

Never overwrites a file unless told to; nothing of the user's code is imported (a target whose
module cannot be found is a warning: the user may not have written it yet)."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from .errors import MlwsError

ROOT_CONFIG = """\
# The root of every run's config: mlws's building blocks (trainer, callbacks, logger, compute,
# serve) ship with mlws; a file of the same name under conf/ replaces one of them. Experiments
# (experiments/{name}_NN.yaml, chosen with +experiment={name}_NN) layer their changes on top.
defaults:
  - model: {name}
  - data: {name}
  - trainer: default
  - callbacks: [default]
  - logger: wandb
  - compute: local
  - serve: default
  - _self_

description: "defaults from conf/"
seed: 42
# Next to each checkpoint, the weights as safetensors (loading them runs no code).
safe_weights: true
# The metric that decides the best checkpoint and the best run (and its mode), and the loss to watch.
monitor:
  metric: {metric}
  mode: {mode}
  loss: {loss}
  hardware_interval_s: 2.0
"""

TARGET = """\
# {what}: built with Hydra's instantiate; the keys below become its __init__ arguments.
_target_: {target}
"""

EXPERIMENT = """\
# @package _global_
# The first experiment: later ones build on it (defaults: [{name}_01, _self_]) and change one thing each.
description: "baseline"
trainer:
  max_epochs: 5
"""

IGNORED = ("runs/", ".mlws/")


def init(root: Path, *, name: str | None = None, model: str | None = None, data: str | None = None,
         metric: str = "val/loss", mode: str = "min", force: bool = False) -> dict:
    """Write the workspace files; returns {written: [paths], warnings: [...]}. Refuses to overwrite."""
    root = Path(root).resolve()
    if mode not in ("min", "max"):
        raise MlwsError(f"--mode must be min or max, got {mode!r}")
    name = name or _name_from(model, root)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
        raise MlwsError(f"--name {name!r}: use letters, digits, _ and - (it names config files)")
    model = model or f"{name}.model.Model"
    data = data or f"{name}.data.DataModule"
    for flag, target in (("--model", model), ("--data", data)):
        if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+", target):
            raise MlwsError(f"{flag} {target!r}: expected a dotted path to a class, e.g. acme.model.Net")
    loss = metric if "loss" in metric else "null"
    files = {
        root / "conf" / "config.yaml": ROOT_CONFIG.format(name=name, metric=metric, mode=mode, loss=loss),
        root / "conf" / "model" / f"{name}.yaml": TARGET.format(what="The LightningModule", target=model),
        root / "conf" / "data" / f"{name}.yaml": TARGET.format(what="The LightningDataModule", target=data),
        root / "experiments" / f"{name}_01.yaml": EXPERIMENT.format(name=name),
    }
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise MlwsError(f"not overwriting {', '.join(str(p.relative_to(root)) for p in existing)} "
                        "(this folder already has an mlws workspace; --force writes over these files)")
    warnings = [w for w in (_missing_module(root, t, flag) for flag, t in (("--model", model), ("--data", data))) if w]
    written = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(str(path.relative_to(root)))
    if _add_to_gitignore(root / ".gitignore"):
        written.append(".gitignore (runs/ and .mlws/ added)")
    return {"root": str(root), "name": name, "written": written, "warnings": warnings,
            "next": f"mlws train +experiment={name}_01"}


def _name_from(model: str | None, root: Path) -> str:
    base = model.split(".")[0] if model else root.name
    return re.sub(r"[^A-Za-z0-9_-]", "_", base) or "model"


def _missing_module(root: Path, target: str, flag: str) -> str | None:
    """A warning when the target's module is nowhere to be found (found without importing it)."""
    module = target.rsplit(".", 1)[0]
    parts = module.split(".")
    local = root.joinpath(*parts)
    if local.with_suffix(".py").is_file() or (local / "__init__.py").is_file():
        return None
    try:
        spec = importlib.util.find_spec(parts[0])  # the top-level package only: nothing is executed
    except (ImportError, ValueError):
        spec = None
    if spec is not None and (len(parts) == 1 or any(
            Path(d).joinpath(*parts[1:]).with_suffix(".py").is_file() or Path(d).joinpath(*parts[1:], "__init__.py").is_file()
            for d in spec.submodule_search_locations or [])):
        return None
    return (f"{flag} {target}: no module {module} here or on this Python's path yet; "
            "training will say so until it exists")


def _add_to_gitignore(path: Path) -> bool:
    text = path.read_text() if path.exists() else ""
    missing = [entry for entry in IGNORED if entry not in text.split()]
    if not missing:
        return False
    path.write_text(text + ("" if not text or text.endswith("\n") else "\n") + "\n".join(missing) + "\n")
    return True
