"""A run that carries on from its last.ckpt ends where an uninterrupted one would.

Lightning's checkpoint holds the weights, the optimizer and the loops' progress, but not the random
number generators: a resumed run would shuffle its next epoch as the first one was shuffled. So:
- `RngState` saves Python's, NumPy's and torch's generators (CPU, and CUDA's where present) in the
  checkpoint and puts them back right before training carries on (after Lightning's sanity
  validation, which draws from them too);
- `before_resume` drops the lines of metrics.jsonl written after the checkpoint (a run killed between
  a validation and its checkpoint does that validation again: no step twice);
- `wandb_resume` gives the W&B logger the id of the run's earlier W&B run, so it is continued.
Exact from an epoch boundary: a run killed mid-epoch carries on from its last epoch's checkpoint and
trains the partial epoch again (`resume_note` says so). A checkpoint written mid-epoch (`mlws stop`)
carries on with Lightning's own mid-epoch restart, whose data order is not the uninterrupted one's
(docs/reproducibility.md).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from .flavour import Hooks


def collect_rng() -> dict:
    import numpy as np
    import torch

    # plain values only (numpy's key array as ints): the checkpoint stays loadable with weights_only
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [str(name), [int(k) for k in keys], int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng(state: dict) -> None:
    import numpy as np
    import torch

    random.setstate(_tuples(state["python"]))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tuples(value):
    """random.setstate wants tuples where a checkpoint round trip may give lists."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


class RngState(Hooks):
    """The generators' states in each checkpoint; restored when training carries on from one."""

    def __init__(self):
        self._pending: dict | None = None

    @property
    def state_key(self) -> str:
        return "mlws.RngState"

    def state_dict(self) -> dict:
        return {"rng": collect_rng()}

    def load_state_dict(self, state_dict: dict) -> None:
        self._pending = state_dict.get("rng")
        if self._pending is not None:
            set_rng(self._pending)

    def on_sanity_check_end(self, trainer, pl_module) -> None:
        if self._pending is not None:  # the sanity validation drew from the generators: again
            set_rng(self._pending)

    def on_train_start(self, trainer, pl_module) -> None:
        resumed, self._pending = self._pending is not None, None
        keep_writing_last(trainer)
        if resumed and trainer.is_global_zero:  # the validations a killed process never gave W&B
            from .wandb_backfill import backfill

            backfill(trainer)


def keep_writing_last(trainer) -> None:
    """A run stopped before its first epoch-end checkpoint restores a ModelCheckpoint that knows no
    last.ckpt: Lightning would then write last-v1.ckpt beside it, and a later resume would read the
    stale last.ckpt. The checkpoint it carries on from is its last: go on writing to it."""
    for cb in getattr(trainer, "checkpoint_callbacks", None) or []:
        if not getattr(cb, "save_last", None) or getattr(cb, "last_model_path", None) or not cb.dirpath:
            continue
        name = f"{cb.CHECKPOINT_NAME_LAST}{cb.FILE_EXTENSION}"
        if (Path(cb.dirpath) / name).is_file():
            cb.last_model_path = str(Path(cb.dirpath) / name)


def _load(path: Path) -> dict:
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception:
        return {}
    return ckpt if isinstance(ckpt, dict) else {}


def checkpoint_step(path: Path) -> int | None:
    """The global step a Lightning checkpoint was written at (None: unreadable)."""
    step = _load(path).get("global_step")
    return int(step) if step is not None else None


def checkpoint_place(path: Path) -> dict:
    """{step, epoch, mid_epoch} of a Lightning checkpoint ({}: unreadable). An epoch's own checkpoint
    is written before the loop counts the epoch done but after it processed it; one written by a stop
    (or a step-interval checkpoint) has an epoch started and not processed."""
    ckpt = _load(path)
    if ckpt.get("global_step") is None:
        return {}
    progress = (((ckpt.get("loops") or {}).get("fit_loop") or {}).get("epoch_progress") or {}).get("current") or {}
    mid = int(progress.get("processed", 0)) < int(progress.get("started", 0))
    return {"step": int(ckpt["global_step"]), "epoch": int(ckpt.get("epoch", 0)), "mid_epoch": mid}


def step_reached(run_dir: Path) -> int | None:
    """The furthest step the run's files say it got to: progress.json (about once a second) and
    metrics.jsonl's validations (None: neither)."""
    steps = []
    try:
        steps.append(int(json.loads((Path(run_dir) / "progress.json").read_text())["step"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    path = Path(run_dir) / "metrics.jsonl"
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            steps.append(int(json.loads(line).get("step", 0)))
        except (ValueError, TypeError, AttributeError):
            continue
    return max(steps) if steps else None


def resume_note(run_dir: Path, last: Path) -> str:
    """One line saying where a run carries on from, and what is trained again."""
    place = checkpoint_place(last)
    if not place:
        return f"carries on from {last}"
    step, epoch = place["step"], place["epoch"]
    if place["mid_epoch"]:
        return (
            f"carries on from step {step}, in the middle of epoch {epoch} (a stop's checkpoint): its data "
            "loaders are not stateful, so the rest of that epoch does not see the batches an uninterrupted "
            "run would (not exact)"
        )
    text = f"carries on from step {step}, the end of epoch {epoch}"
    reached = step_reached(run_dir)
    if reached is not None and reached > step:
        return text + (
            f"; it had reached step {reached}: the partial epoch {epoch + 1} after the checkpoint is "
            f"trained again, exactly as before (its metrics past step {step} are dropped, then written once)"
        )
    return text + f"; any part of epoch {epoch + 1} it trained before it stopped is trained again, exactly as before"


def before_resume(run_dir: Path, last: Path) -> int | None:
    """Drop metrics.jsonl's lines past the checkpoint's step; returns that step."""
    step = checkpoint_step(last)
    path = Path(run_dir) / "metrics.jsonl"
    if step is None or not path.is_file():
        return step
    kept = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # a line cut short by the kill
            continue
        if int(row.get("step", 0)) <= step:
            kept.append(line)
    from ..fileio import write_atomic

    write_atomic(path, "".join(f"{line}\n" for line in kept))
    return step


def wandb_resume(run_dir: Path) -> dict:
    """{"id": ..., "resume": "allow"} when the run directory holds an earlier W&B run of this run."""
    wandb_dir = Path(run_dir) / "wandb"
    runs = sorted(p for p in wandb_dir.glob("*run-*-*") if p.is_dir()) if wandb_dir.is_dir() else []
    if not runs:
        return {}
    return {"id": runs[-1].name.rsplit("-", 1)[-1], "resume": "allow"}
