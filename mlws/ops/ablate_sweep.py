"""An ablation's trainings as one recorded sweep (sweeper `ablate`): its trials are runs of the
sweep, shown by `mlws sweeps` and `mlws sweep ID`, run N at a time on the run's own backend by the
sweeps' driver, and stopped with `mlws sweep ID --stop`. The same `mlws ablate RUN` again resumes it:
the sweep is taken over again, a trial a dead driver left running is waited for, and only what has
no succeeded run yet is trained (ablate.py reuses every succeeded run with the same config)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import MlwsError

if TYPE_CHECKING:
    from ..registry import Registry

SWEEPER = "ablate"


def earlier(ws, run_id: int) -> int | None:
    """The sweep an earlier `mlws ablate RUN` trained in, if any."""
    path = _path(ws, run_id)
    return int(json.loads(path.read_text())["sweep"]) if path.exists() else None


def _path(ws, run_id: int):
    return ws.state_dir / "ablations" / str(run_id) / "sweep.json"


def sweep_for(
    ws,
    registry: Registry,
    run: Mapping[str, Any],
    parent: Mapping[str, Any],
    configs: list[dict[str, Any]],
    seeds: list[int],
    parallel: int,
    to_train: int = 0,
) -> dict:
    """This ablation's sweep record: the one an earlier `mlws ablate RUN` made, taken over, or a new one.
    Its trials: those it ran before that succeeded and the `to_train` it runs now."""
    path = _path(ws, run["id"])
    # not `seed`: the report groups each configuration's seeds (mlws sweep ID still shows them)
    space = {"configuration": [c["name"] for c in configs]}
    settings = {
        "parallel": parallel,
        "labels": [f"ablate-{run['id']}"],
        "ablation": {"run": run["id"], "parent": parent["id"]},
    }
    monitor = run.get("monitor") or {}
    command = f"mlws ablate {run['id']} --seeds {len(seeds)}"  # what resumes it (the driver's hint)
    sweep_id = earlier(ws, run["id"])
    if sweep_id is not None:
        try:
            registry.sweeps.get(sweep_id)
        except MlwsError:  # the registry was replaced since: a new sweep
            sweep_id = None
    done = [r for r in registry.list(sweep_id=sweep_id) if r["status"] == "succeeded"] if sweep_id else []
    settings["n_trials"] = len(done) + to_train
    if sweep_id is None:
        sweep_id = registry.sweeps.create(
            command=command,
            overrides=[],
            space=space,
            sweeper=SWEEPER,
            settings=settings,
            experiment=run.get("experiment"),
            metric=monitor.get("metric"),
            mode=monitor.get("mode") or "max",
            base_run_id=None,
            signature=f"ablate-{run['id']}",
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"sweep": sweep_id}))
    else:
        registry.sweeps.update(sweep_id, space=space, settings=settings, command=command)
        registry.sweeps.take_over(sweep_id)
    return registry.sweeps.get(sweep_id)


def train(ws, registry: Registry, record: dict, missing: list, parallel: int, out) -> list[dict]:
    """Train each missing (configuration, seed) as a trial of the sweep; returns the failures."""
    from ..registry.store import now_iso
    from ..sweeps.driver import Driver, SweepInterrupted
    from ..sweeps.stopping import StopRequested, requested, stoppable

    jobs = [[*c["overrides"], f"seed={seed}"] for c, seed in missing]
    status, error = "finished", None
    values: list[float | None] = []
    try:
        with stoppable(), Driver(ws, registry, record, parallel=parallel, out=out) as driver:
            values = driver.launch(jobs) if jobs else []
    except SweepInterrupted as e:
        status, error = ("stopped" if requested() else "interrupted"), str(e)
        raise
    except StopRequested:
        status, error = "stopped", "stopped"
        raise
    except BaseException as e:
        status, error = "failed", f"{type(e).__name__}: {e}"
        raise
    finally:
        registry.sweeps.update(record["id"], status=status, error=error, ended_at=now_iso(), pid=None)
    return [
        {"configuration": c["name"], "seed": seed, "log": f"mlws sweep {record['id']}"}
        for (c, seed), value in zip(missing, values)
        if value is None
    ]
