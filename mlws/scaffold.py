"""`mlws init`: a working workspace in an existing repository, pointing at the user's own
LightningModule and DataModule; mlws's building blocks come from the package (pkg://mlws.conf).

Never overwrites a file unless told to; nothing of the user's code is imported or run: a class's
`__init__` arguments (what LightningCLI reads from its signature) are read from its source with
`ast`, each with its default (`???` where it has none), so `model.lr=1e-3` is a known key from the
first run. A module or class that cannot be found yet is a warning: the user may not have written it.
"""

from __future__ import annotations

import ast
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
# What a run on this machine costs per hour of wall time (USD; 0: runs show their time only).
cost:
  local_hourly: 0.0
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
MISSING = "???"  # Hydra's "no default: give a value" (an override, or an experiment)

EXPERIMENT = """\
# @package _global_
# The first experiment: later ones build on it (defaults: [{name}_01, _self_]) and change one thing each.
description: "baseline"
trainer:
  max_epochs: 5
"""

IGNORED = ("runs/", ".mlws/")


def init(
    root: Path,
    *,
    name: str | None = None,
    model: str | None = None,
    data: str | None = None,
    metric: str = "val/loss",
    mode: str = "min",
    force: bool = False,
) -> dict:
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
    warnings: list[str] = []
    blocks, missing = {}, {}
    for flag, group, what, target in (
        ("--model", "model", "The LightningModule", model),
        ("--data", "data", "The LightningDataModule", data),
    ):
        arguments, problem = class_arguments(root, target)
        if problem:
            warnings.append(
                f"{flag} {target}: {problem}; conf/{group}/{name}.yaml has only _target_ "
                "(add its __init__ arguments there)"
            )
        blocks[root / "conf" / group / f"{name}.yaml"] = TARGET.format(what=what, target=target) + arguments
        required = [line.split(":")[0] for line in arguments.splitlines() if line.endswith(f": {MISSING}")]
        if required:
            missing[f"conf/{group}/{name}.yaml"] = required
    files = {
        root / "conf" / "config.yaml": ROOT_CONFIG.format(name=name, metric=metric, mode=mode, loss=loss),
        **blocks,
        root / "experiments" / f"{name}_01.yaml": EXPERIMENT.format(name=name),
    }
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise MlwsError(
            f"not overwriting {', '.join(str(p.relative_to(root)) for p in existing)} "
            "(this folder already has an mlws workspace; --force writes over these files)"
        )
    written = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(str(path.relative_to(root)))
    if _add_to_gitignore(root / ".gitignore"):
        written.append(".gitignore (runs/ and .mlws/ added)")
    from .compute.sky.workdir import write_skyignore  # what a cloud launch leaves out, in git or not

    if write_skyignore(root):
        written.append(".skyignore (runs/, .mlws/, .venv/ never uploaded to a cloud node)")
    return {
        "root": str(root),
        "name": name,
        "written": written,
        "warnings": warnings,
        "missing": missing,
        "next": f"mlws train +experiment={name}_01",
    }


def _name_from(model: str | None, root: Path) -> str:
    base = model.split(".")[0] if model else root.name
    return re.sub(r"[^A-Za-z0-9_-]", "_", base) or "model"


def class_arguments(root: Path, target: str) -> tuple[str, str | None]:
    """(YAML lines for the class's __init__ arguments, or a reason they could not be read)."""
    module, class_name = target.rsplit(".", 1)
    for _ in range(5):  # `from .model import Net` in a package's __init__: follow it
        path = module_file(root, module)
        if path is None:
            return "", f"no module {module} here or on this Python's path yet (training will say so until it exists)"
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source, filename=str(path))
        except (OSError, UnicodeDecodeError, SyntaxError) as e:
            return "", f"cannot read {path} ({type(e).__name__}: {e})"
        classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        if class_name in classes:
            break
        origin = _imported_from(tree, class_name, module, package=path.name == "__init__.py")
        if origin is None:
            return "", f"no class {class_name} in {path} yet"
        module, class_name = origin
    else:
        return "", f"cannot find where {target} is defined"
    init = _own_init(classes[class_name], classes)
    if init is None:  # inherited from a class of another module (LightningModule's takes none)
        return "", None
    return "".join(_argument_lines(init, source)), None


def _imported_from(tree: ast.Module, name: str, module: str, *, package: bool) -> tuple[str, str] | None:
    """(module, class name) that `from X import Y [as name]` at the module's top level names."""
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        for alias in node.names:
            if (alias.asname or alias.name) != name:
                continue
            if not node.level:
                return node.module, alias.name
            parts = module.split(".") if package else module.split(".")[:-1]
            parts = parts[: len(parts) - (node.level - 1)]
            return ".".join(parts + ([node.module] if node.module else [])), alias.name
    return None


def module_file(root: Path, module: str) -> Path | None:
    """The source file of a dotted module, in the workspace or on the path, found without importing it."""
    parts = module.split(".")
    for base in [root] + _search_locations(parts[0]):
        local = base.joinpath(*parts) if base == root else base.joinpath(*parts[1:])
        for candidate in (local.with_suffix(".py"), local / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _search_locations(top: str) -> list[Path]:
    try:
        spec = importlib.util.find_spec(top)  # the top-level package only: nothing is executed
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [Path(d) for d in spec.submodule_search_locations]
    # a single-file module: its parts beyond the top are not submodules
    return [Path(spec.origin).with_suffix("")] if spec.origin and spec.origin.endswith(".py") else []


def _own_init(cls: ast.ClassDef, classes: dict, seen: tuple = ()) -> ast.FunctionDef | None:
    """The class's __init__, or that of a base class defined in the same file."""
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            return node
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            found = _own_init(classes[base.id], classes, (*seen, cls.name))
            if found is not None:
                return found
    return None


def _argument_lines(init: ast.FunctionDef, source: str) -> list[str]:
    """`name: default` per argument (`???` without a default); a default that is not a plain value
    (an object, a call) becomes a comment showing it."""
    import yaml

    args = init.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults))[1:] + list(zip(args.kwonlyargs, args.kw_defaults))  # [1:]: self
    lines = []
    for arg, default in pairs:
        if default is None:
            lines.append(f"{arg.arg}: {MISSING}\n")
            continue
        try:
            value = ast.literal_eval(default)
            text = yaml.safe_dump(
                {arg.arg: list(value) if isinstance(value, tuple) else value}, default_flow_style=True, width=10_000
            ).strip()[1:-1]
            lines.append(f"{text}\n")
        except (ValueError, TypeError, SyntaxError, yaml.YAMLError):
            shown = " ".join((ast.get_source_segment(source, default) or "...").split())[:80]
            lines.append(f"# {arg.arg}: {shown}   (not a plain value: give a _target_ node to change it)\n")
    return lines


def _add_to_gitignore(path: Path) -> bool:
    text = path.read_text() if path.exists() else ""
    missing = [entry for entry in IGNORED if entry not in text.split()]
    if not missing:
        return False
    path.write_text(text + ("" if not text or text.endswith("\n") else "\n") + "\n".join(missing) + "\n")
    return True
