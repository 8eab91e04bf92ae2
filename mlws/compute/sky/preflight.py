"""What a plan and a launch check before anything is recorded: the compiled task validated and
priced by SkyPilot (reused from an earlier plan where nothing it depends on changed: plan_cache.py),
the node's torch, compute.max_cost; and the notes a plan prints."""

from __future__ import annotations

from pathlib import Path

from ...errors import MlwsError
from .shared import node_wheel


def priced(spec, *, price_required: bool, spec_path: str | None = None) -> dict:
    """{"task", "estimate", "notes"[, "files"]}; raises MlwsError on anything a launch would fail on.
    `price_required` (a launch): an unknown price under compute.max_cost refuses, and SkyPilot is
    always asked; a plan may reuse an earlier plan's answer."""
    from .compile import compile_task
    from .torch_wheels import plan_notes

    c = spec.config["compute"]
    # the torch index is asked over the network (up to 2.5 s offline) while SkyPilot works
    index_check = _in_background(plan_notes, c, (spec.versions or {}).get("torch"))
    wheel = node_wheel()
    # a task handed to `sky launch` (a plan's spec_path) mounts the wheel beside its spec, not from a cache
    task_config = compile_task(spec, spec_path, Path(spec_path).parent / wheel.name if spec_path else wheel)
    estimate = checked_and_priced(
        task_config, c.get("max_runtime_minutes"), Path(spec.workspace), reuse=not price_required
    )
    index_notes, refusal = index_check()
    if refusal:  # the node's setup would fail after the VM is paid for
        raise MlwsError(f"the node's torch: {refusal}")
    _within_max_cost(c, estimate, price_required)
    return {
        "task": task_config,
        "estimate": estimate,
        "notes": index_notes,
        **({"files": {wheel.name: str(wheel)}} if spec_path else {}),
    }


def _in_background(function, *args):
    """`function(*args)` started on a thread; the returned call waits for its result (or raises its error)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(function, *args)
    pool.shutdown(wait=False)  # the thread ends with the call; the caller waits on the future
    return future.result


def checked_and_priced(task_config: dict, max_runtime_minutes, workspace: Path, *, reuse: bool) -> dict:
    """SkyPilot's validation of the task and its optimizer's price. `reuse` (a plan): the answer an
    earlier plan got for the same task and SkyPilot inputs, if any; a launch always asks SkyPilot,
    and keeps what it says for the next plan."""
    from ...workspace import Workspace
    from . import plan_cache

    cache_dir = Workspace(workspace).state_dir / "cache"
    if reuse:
        kept = plan_cache.load(cache_dir, plan_cache.key(task_config, max_runtime_minutes, workspace))
        if kept:
            return kept
    from .pricing import estimate, validate
    from .skypilot import gc_paused

    with gc_paused():
        priced = estimate(validate(task_config), max_runtime_minutes)
    # keyed on the inputs as SkyPilot left them (its first run creates its state database)
    plan_cache.store(cache_dir, plan_cache.key(task_config, max_runtime_minutes, workspace), priced)
    return priced


def _within_max_cost(c: dict, estimate: dict, price_required: bool) -> None:
    limit = c.get("max_cost")
    if limit is None:
        return
    if not estimate.get("available"):
        if price_required:
            raise MlwsError(f"compute.max_cost is set but the price is unknown ({estimate['reason']})")
    elif not c.get("max_runtime_minutes"):
        raise MlwsError("compute.max_cost needs compute.max_runtime_minutes to estimate a run's cost")
    elif estimate["max_runtime_cost"] > limit:
        raise MlwsError(
            f"estimated cost ${estimate['max_runtime_cost']:.2f} "
            f"({estimate['instance_type']} × {estimate['num_nodes']} at ${estimate['hourly_price']:.2f}/h "
            f"for {c['max_runtime_minutes']} min) exceeds compute.max_cost ${limit:.2f}"
        )


def plan_notes(spec, estimate: dict) -> list[str]:
    """What a plan says besides the task and its price."""
    from .node_setup import notes as setup_notes
    from .workdir import plan_note

    c = spec.config["compute"]
    notes = []
    if "reused_after_s" in estimate:
        notes.append(
            f"SkyPilot's validation and price of this task are those of a plan {estimate['reused_after_s']} s ago "
            "(same task, SkyPilot, catalog, config and credentials); rm -r .mlws/cache/sky-plan to ask it again"
        )
    if c.get("use_spot") and not c.get("bucket"):
        notes.append(
            "without compute.bucket the run directory lives on the VM, so a preempted spot run "
            "restarts from scratch instead of from last.ckpt"
        )
    return notes + [n for n in [plan_note(spec.workspace), *setup_notes(spec.workspace)] if n]
