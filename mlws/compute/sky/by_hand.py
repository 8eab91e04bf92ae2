"""`mlws plan -o DIR`: the command that launches DIR/task.yaml by hand as mlws would, and which of
the run's guards then still act (those in mlws's worker on the node) and which SkyPilot applies."""

from __future__ import annotations

import shlex
from pathlib import Path


def launch_lines(task: dict, c: dict, estimate: dict, folder: Path, *, name: str) -> list[str]:
    """Lines for the plan's output. A managed task must go through `sky jobs launch` (a plain `sky
    launch` ignores its recovery settings and leaves the cluster up after the job); a cluster task
    carries its autostop (down) in the YAML itself. The price is written into the task's envs, so the
    cost guard on the node has it (a launch through mlws passes it at launch)."""
    if estimate.get("available"):
        from ... import node_env

        task.setdefault("envs", {}).update(node_env.billing_env(estimate["hourly_price"]))
    path = shlex.quote(str(folder / "task.yaml"))
    secrets = "".join(f" --secret {name_}" for name_ in task.get("secrets") or {})  # values from your env
    if c.get("managed"):
        command = f"sky jobs launch --name {name} {path}{secrets}"
        skypilot = (
            "SkyPilot: recovery from preemptions, and the job's failures retried only for the worker's "
            "transient exit code; the cluster goes when the job ends"
        )
    else:
        cluster = c.get("cluster_name") or name
        command = f"sky launch -c {cluster} {path}{secrets}"
        stop = (task.get("resources") or {}).get("autostop")
        skypilot = (
            f"SkyPilot: autostop after {stop['idle_minutes']} idle minutes, then the cluster is torn down"
            if stop
            else "SkyPilot: nothing stops this cluster (compute.autostop_minutes is null): "
            f"sky down {cluster} when done"
        )
    guards = ["resume from last.ckpt after a preemption"]
    if c.get("max_runtime_minutes"):
        guards.append(f"the time limit ({c['max_runtime_minutes']} min at a batch end, then a hard stop)")
    if c.get("max_cost") is not None:
        guards.append(
            f"the cost limit (${float(c['max_cost']):.2f}"
            + (
                f" at ${estimate['hourly_price']:.2f}/hour, written into the task)"
                if estimate.get("available")
                else "; the price is unknown here, so it cannot act)"
            )
        )
    return [
        f"launch it by hand with: {command}",
        "guards that need mlws on the node (its setup installs it; python -m mlws.compute.sky.node_run): "
        + "; ".join(guards),
        skypilot,
    ]
