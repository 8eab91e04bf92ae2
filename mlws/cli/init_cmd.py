"""mlws init [--name N] [--model pkg.Module] [--data pkg.DataModule] [--metric M --mode min|max] [--force]

The model's and data module's __init__ arguments are written under their `_target_` with their
defaults (read from the source; nothing is imported), `???` where a class has no default."""

from __future__ import annotations

import sys

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("--name", help="names the config files (default: the model's package, else this folder)")
    p.add_argument("--model", help="your LightningModule, e.g. acme.model.Net (default: NAME.model.Model)")
    p.add_argument("--data", help="your LightningDataModule, e.g. acme.data.Digits (default: NAME.data.DataModule)")
    p.add_argument("--metric", default="val/loss", help="the metric that decides the best run (default val/loss)")
    p.add_argument("--mode", default="min", choices=["min", "max"], help="is a lower or a higher metric better")
    p.add_argument("--force", action="store_true", help="write over the files mlws init writes, if they exist")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from pathlib import Path

    from mlws.scaffold import init

    result = init(
        Path.cwd(),
        name=args.name,
        model=args.model,
        data=args.data,
        metric=args.metric,
        mode=args.mode,
        force=args.force,
    )
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print_json(result)
        return 0
    print(f"mlws workspace in {result['root']}:")
    for path in result["written"]:
        print(f"  wrote {path}")
    for path, keys in result["missing"].items():  # arguments without a default are `???` there
        print(f"  fill in {path}: {', '.join(keys)} (no default in the class; `???` until given)")
    print(
        f"next: {result['next']}   (mlws's trainer, logger, callbacks, compute and serve blocks come "
        "from the package; a file of the same name under conf/ replaces one)"
    )
    return 0
