"""SkyPilot: the same worker on a cloud VM (or a managed job that survives spot preemption)."""
from __future__ import annotations

from pathlib import Path

from ..errors import MlwsError


class SkyBackend:
    name = "sky"

    def prepare(self, spec) -> dict:
        """Compile, validate with SkyPilot, price; raises MlwsError before anything is recorded."""
        from ..cloud import skypilot
        from ..cloud.compile import compile_task, secret_values
        c = spec.config["compute"]
        task_config = compile_task(spec)
        secret_values(c)  # fail now if a named secret is missing here
        estimate = skypilot.estimate(skypilot.validate(task_config), c.get("max_runtime_minutes"))
        limit = c.get("max_cost")
        if limit is not None:
            if not estimate.get("available"):
                raise MlwsError(f"compute.max_cost is set but the price is unknown ({estimate['reason']})")
            if not c.get("max_runtime_minutes"):
                raise MlwsError("compute.max_cost needs compute.max_runtime_minutes to estimate a run's cost")
            if estimate["max_runtime_cost"] > limit:
                raise MlwsError(f"estimated cost ${estimate['max_runtime_cost']:.2f} "
                                f"({estimate['instance_type']} × {estimate['num_nodes']} at ${estimate['hourly_price']:.2f}/h "
                                f"for {c['max_runtime_minutes']} min) exceeds compute.max_cost ${limit:.2f}")
        return {"task": task_config, "estimate": estimate}

    def submit(self, spec_path: Path, detach: bool, prepared: dict | None = None) -> dict:
        from ..cloud import skypilot
        from ..cloud.compile import compile_task, secret_values
        from ..spec import RunSpec
        spec = RunSpec.read(spec_path)
        c = spec.config["compute"]
        task = skypilot.validate(compile_task(spec, spec_path))
        if c.get("secrets"):
            task.update_secrets(secret_values(c))
        estimate = (prepared or {}).get("estimate") or {}
        if estimate.get("available"):
            task.update_envs({"MLWS_HOURLY_PRICE": str(estimate["hourly_price"])})  # for the cost guard
        name = f"mlws-{spec.run_id}"
        return {"cloud": skypilot.launch(task, managed=bool(c.get("managed")), name=name,
                                         cluster_name=c.get("cluster_name"),
                                         autostop_minutes=c.get("autostop_minutes"))}
