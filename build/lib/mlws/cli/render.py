"""Terminal rendering shared by commands (rich), and JSON output."""
from __future__ import annotations

import json
import sys


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def format_metrics(metrics: dict | None, keys: tuple[str, ...] = ()) -> str:
    """The run's own key metric and loss (keys), else its first two metrics."""
    metrics = metrics or {}
    shown = [k for k in keys if k in metrics] or sorted(metrics)[:2]
    return "  ".join(f"{k}={metrics[k]:.4f}" for k in shown)


def console():
    from rich.console import Console
    return Console()
