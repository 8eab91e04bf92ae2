"""One view of a run: status, latest metrics, latest hardware sample, progress, warnings."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

from ..keymetric import watched
from .alerts import Thresholds, alerts
from .data_seen import data_text

MAX_LINE_BYTES = 2048  # a hardware sample with several GPUs stays well under this


def read_jsonl(path: Path, last: int | None = None) -> list[dict]:
    """The complete lines of a JSON-lines file that may be being written right now.

    With `last`, only the file's tail is read: `mlws watch` polls long runs every second."""
    if not path.is_file():
        return []
    with path.open("rb") as f:
        size = f.seek(0, 2)
        start = max(0, size - last * MAX_LINE_BYTES) if last else 0
        f.seek(start)
        lines = f.read().decode("utf-8", "replace").splitlines()
    if start > 0:
        lines = lines[1:]  # began mid-line
    rows = []
    for line in lines[-last:] if last else lines:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line still being written
    return rows


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def snapshot(record: dict, thresholds: Thresholds | None = None, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    run_dir = Path(record["run_dir"])
    progress = read_json(run_dir / "progress.json")
    evaluations = once_per_step(read_jsonl(run_dir / "metrics.jsonl"))
    hardware_rows = read_jsonl(run_dir / "hardware.jsonl", last=2000)
    metrics = {**(evaluations[-1] if evaluations else {}), **progress.get("metrics", {})}
    if record["status"] != "running" and record.get("metrics"):
        metrics = {**metrics, **record["metrics"]}
    for key in ("time", "epoch", "step"):
        metrics.pop(key, None)
    latest_hw = hardware_rows[-1] if hardware_rows else {}
    hardware = {k: v for k, v in latest_hw.items() if not k.startswith("gpu")}
    # a sample taken during validation has no training steps to time: show the last one that had
    for row in reversed(hardware_rows):
        if "data_wait_fraction" in row:
            hardware.setdefault("data_wait_fraction", row["data_wait_fraction"])
            hardware.setdefault("step_time_ms", row.get("step_time_ms"))
            break
    hardware["gpus"] = _gpus(latest_hw)
    step, total, rate = progress.get("step"), progress.get("total_steps"), progress.get("steps_per_sec")
    eta = (total - step) / rate if step is not None and total and rate else None
    last_update = max([t for t in (progress.get("time"), latest_hw.get("time")) if t] or [None], key=lambda t: t or 0)
    wandb_dir = (record.get("artifacts") or {}).get("wandb_dir") or _find_wandb_dir(run_dir)
    trend = (watched(record) or (None, None))[0]  # the run's loss, else its key metric
    return {
        "id": record["id"],
        "experiment": record["experiment"],
        "status": record["status"],
        "stop_reason": record.get("stop_reason"),
        "error": record.get("error"),
        "metrics": metrics,
        "hardware": hardware,
        "progress": {
            "step": step,
            "total_steps": total,
            "epoch": progress.get("epoch"),
            "steps_per_sec": rate,
            "eta_s": eta,
            "seconds_since_update": now - last_update if last_update else None,
        },
        "trend_metric": trend,
        "loss_trend": [e[trend] for e in evaluations if trend and isinstance(e.get(trend), (int, float))][-20:],
        "warnings": alerts(
            record["status"], evaluations, hardware_rows, last_update, now, thresholds or Thresholds(), watched(record)
        ),
        "data": data_text(record),
        "resumes": [r.get("note") or r.get("from") for r in (record.get("artifacts") or {}).get("resumes") or []],
        "wandb_dir": wandb_dir,
        "wandb_view": f"wandb beta leet {shlex.quote(wandb_dir)}" if wandb_dir else None,  # a command to paste
    }


def once_per_step(rows: list[dict]) -> list[dict]:
    """One evaluation per step, the latest: a resumed run drops the rows past its checkpoint before it
    writes them again, but a view read between the kill and the resume must not count them twice."""
    out: list[dict] = []
    for row in rows:
        step = row.get("step")
        while out and step is not None and isinstance(out[-1].get("step"), int) and out[-1]["step"] >= step:
            out.pop()
        out.append(row)
    return out


def _gpus(sample: dict) -> list[dict]:
    gpus: dict[int, dict] = {}
    for key, value in sample.items():
        if key.startswith("gpu") and "_" in key:
            index, _, name = key[3:].partition("_")
            if index.isdigit():
                gpus.setdefault(int(index), {"index": int(index)})[name] = value
    return [gpus[i] for i in sorted(gpus)]


def _find_wandb_dir(run_dir: Path) -> str | None:
    found = sorted((run_dir / "wandb").glob("*run-*")) if (run_dir / "wandb").is_dir() else []
    return str(found[-1]) if found else None
