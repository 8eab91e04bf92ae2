"""Terminal rendering shared by commands (rich), and JSON output.

Written for an 80-column terminal (a laptop's split terminal): a path or a command is printed whole
on its own line (`print_whole`: the terminal soft-wraps it and copying gives it back in one piece),
and a table's key metric is a column rich never cuts; dates, labels and overrides give way first.
The pure helpers here (formatting one value, choosing columns) are unit-tested."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def metric_text(value) -> str:
    """A metric's value as tables show it: four decimals (a number), else as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-" if value is None else str(value)
    return f"{value:.4f}"


def param_text(value) -> str:
    """A swept parameter's value for display: a float to 4 significant digits (an Optuna draw such
    as 0.0007197497206563878 reads 0.0007197); everything else as it is. JSON keeps full values."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_metrics(metrics: dict | None, keys: tuple[str, ...] = (), sep: str = "  ") -> str:
    """The run's own key metric and loss (keys), else its first two metrics."""
    metrics = metrics or {}
    shown = [k for k in keys if k in metrics] or sorted(metrics)[:2]
    return sep.join(f"{k}={metric_text(metrics[k])}" for k in shown)


def metric_columns(records: list[dict], keys_of) -> tuple[list[str], list[list[str]]]:
    """Headers and cells for the metrics of a table of runs. When every run shows the same metrics
    (keys_of(record): its key metric, then its loss), each is a column named by the metric holding
    values only; otherwise one `metrics` column, one `name=value` per line."""
    keys = [tuple(keys_of(r)) for r in records]
    if records and keys[0] and all(k == keys[0] for k in keys):
        return list(keys[0]), [[metric_text((r.get("metrics") or {}).get(k)) for k in keys[0]] for r in records]
    return ["metrics"], [[format_metrics(r.get("metrics"), k, sep="\n") or "-"] for r, k in zip(records, keys)]


def short_time(iso: str | None, now: datetime | None = None) -> str:
    """A recorded time (ISO 8601) in a few columns: `12-07 14:18` this year, `2025-12-07` before."""
    if not iso:
        return "-"
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    now = now or datetime.now(when.tzinfo)
    return when.strftime("%m-%d %H:%M") if when.year == now.year else when.strftime("%Y-%m-%d")


def weights_of(record: dict, exists=os.path.exists) -> list[tuple[str, str]]:
    """(name, path) of the run's safetensors weights (what serving and mlws.load_run read): next to
    the best and last checkpoints, where the run wrote them (`safe_weights`, on by default). A file
    not on this machine (a remote run's) is named when the checkpoint is not here either."""
    ckpts = (record.get("artifacts") or {}).get("checkpoints") or {}
    if (record.get("config") or {}).get("safe_weights", True) is False:
        return []
    found = []
    for name in ("best", "last"):
        ckpt = ckpts.get(name)
        if isinstance(ckpt, str):
            weights = os.path.splitext(ckpt)[0] + ".safetensors"
            if exists(weights) or not exists(ckpt):
                found.append((name, weights))
    return found


def aligned(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Plain text columns under a header; the last column (a link, a path) is never padded or cut."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    return ["  ".join([*(str(c).ljust(w) for c, w in zip(r, widths)), str(r[-1])]).rstrip() for r in [header, *rows]]


def print_whole(out, text, style: str | None = None, indent: int = 2) -> None:
    """A path or a command on its own line, never folded: the terminal soft-wraps a long one and a
    copy (or tmux's capture-pane -J) gives it back in one piece."""
    out.print(" " * indent + str(text), style=style, soft_wrap=True, highlight=False, markup=False)


def console():
    from rich.console import Console

    return Console()
