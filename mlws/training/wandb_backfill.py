"""A resumed run's W&B run gets back the validations its killed process never wrote out.

W&B writes a run's records through its own service process; a worker killed with SIGKILL takes them
with it (its offline-run-* folder is left without history), so after `mlws resume` the one W&B run
would miss every validation before the checkpoint. metrics.jsonl has them (one line per validation,
cut at the checkpoint by `before_resume`): each one no earlier folder of this W&B run holds is logged
again, once, before training carries on. A validation counts as held when an earlier history row has
its epoch and one of its values (not its step: Lightning logs an epoch's end one step earlier).
"""

from __future__ import annotations

import json
from pathlib import Path

SKIP = ("time", "step")


def earlier_history(wandb_dir: Path, run_id: str, current: Path | None) -> list[dict]:
    """History rows of this W&B run's earlier folders (offline-run-*-ID, run-*-ID), read with W&B's
    own record reader; rows it cannot read are left out."""
    from wandb.proto import wandb_internal_pb2
    from wandb.sdk.internal import datastore

    rows = []
    for folder in sorted(wandb_dir.glob(f"*run-*-{run_id}")):
        if current is not None and folder.resolve() == current.resolve():
            continue
        for path in folder.glob("run-*.wandb"):
            store = datastore.DataStore()
            try:
                store.open_for_scan(str(path))
                while (data := store.scan_data()) is not None:
                    record = wandb_internal_pb2.Record()
                    record.ParseFromString(data)
                    if record.WhichOneof("record_type") == "history":
                        rows.append(
                            {(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in record.history.item}
                        )
            except Exception:  # a file cut short by the kill: what was read is kept
                continue
    return rows


def missing(validations: list[dict], history: list[dict]) -> list[dict]:
    """The metrics.jsonl rows no history row holds (same epoch and one same value)."""
    held = {(row.get("epoch"), key, value) for row in history for key, value in row.items()}
    out = []
    for row in validations:
        values = [(k, v) for k, v in row.items() if k not in SKIP and k != "epoch"]
        if not any((row.get("epoch"), k, v) in held for k, v in values):
            out.append(row)
    return out


def backfill(trainer) -> int:
    """Log the validations missing from this run's W&B run; returns how many (0 without W&B)."""
    loggers = [lg for lg in getattr(trainer, "loggers", None) or [] if type(lg).__name__ == "WandbLogger"]
    path = Path(trainer.default_root_dir) / "metrics.jsonl"
    if not loggers or not path.is_file():
        return 0
    experiment = loggers[0].experiment
    current = Path(experiment.dir).parent if getattr(experiment, "dir", None) else None
    validations = []
    for line in path.read_text().splitlines():
        try:
            validations.append(json.loads(line))
        except ValueError:
            continue
    history = earlier_history(Path(trainer.default_root_dir) / "wandb", str(experiment.id), current)
    rows = missing(validations, history)
    for row in rows:
        # at the x Lightning gives an epoch's end: its last step (the validation's global step less one)
        step = max(int(row["step"]) - 1, 0)
        experiment.log({**{k: v for k, v in row.items() if k not in SKIP}, "trainer/global_step": step})
    return len(rows)
