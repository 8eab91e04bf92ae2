"""Driving a recorded sweep to its end: the driver holds the sweep's adapter, settles the jobs an
earlier driver left open, runs Hydra's multirun with mlws's plugins, and records how the sweep ended."""

from __future__ import annotations

import sys

from ..errors import MlwsError
from .sweeper import SweepContext, Sweeper


def drive(
    ws,
    registry,
    record: dict,
    sweeper: Sweeper,
    overrides: list[str],
    planned: dict,
    *,
    parallel: int,
    max_failures: int | None,
    resumed: bool,
    out=None,
) -> None:
    from . import multirun
    from .budget import BudgetReached
    from .driver import Driver, SweepInterrupted

    sweep_id = record["id"]
    out = out or sys.stdout
    sweep_dir = ws.state_dir / "sweeps" / str(sweep_id)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"sweep {sweep_id}{' (resumed)' if resumed else ''}: {sweeper.n_trials} trials of "
        f"{record['experiment'] or '(no experiment)'} over {', '.join(record['space'])}; objective "
        f"{record['metric']} ({record['mode']}), {parallel} at a time",
        file=out,
        flush=True,
    )
    from .stopping import StopRequested, requested, stoppable

    status, error = "finished", None
    try:
        with (
            stoppable(),
            Driver(
                ws,
                registry,
                record,
                parallel=parallel,
                max_failures=max_failures,
                planned=planned,
                sweeper=sweeper,
                out=out,
            ) as driver,
        ):
            sweeper.begin(
                SweepContext(
                    sweep_id=sweep_id,
                    registry_url=ws.registry_url,
                    mode=record["mode"] or "max",
                    parallel=parallel,
                    state=(record.get("settings") or {}).get("state") or {},
                )
            )
            registry.sweeps.update(sweep_id, settings=(record.get("settings") or {}) | {"state": sweeper.state()})
            _settle(sweeper, driver, registry, sweep_id)
            if sweeper.done():
                driver.say(f"all {sweeper.n_trials} trials are complete")
            else:
                given = [o for o in overrides if o.lstrip("+").split("=", 1)[0] != "hydra.sweep.dir"]
                multirun.run(ws, given + [f"hydra.sweep.dir={_quoted(str(sweep_dir))}"])
    except BudgetReached as e:  # a normal end: recorded with the sweep, shown by `mlws sweep ID`
        print(str(e), file=out, flush=True)
        settings = registry.sweeps.get(sweep_id).get("settings") or {}
        registry.sweeps.update(sweep_id, settings=settings | {"budget_reached": str(e)})
    except SweepInterrupted as e:  # Ctrl-C, or SIGTERM from `mlws sweep ID --stop` (stopping.py)
        status, error = ("stopped" if requested() else "interrupted"), str(e)
        raise
    except StopRequested:  # between trials: none of them runs
        status, error = "stopped", "stopped"
        raise
    except MlwsError as e:
        status, error = "failed", str(e)
        raise
    except BaseException as e:
        status, error = "failed", f"{type(e).__name__}: {e}"
        raise
    finally:
        from ..registry.store import now_iso

        registry.sweeps.update(sweep_id, status=status, error=error, ended_at=now_iso(), pid=None)


def _settle(sweeper: Sweeper, driver, registry, sweep_id: int) -> None:
    """A resume: jobs an earlier driver asked for and never told are waited for (their run still goes
    on) or told they failed (no live run)."""
    from .sweeper import Job
    from .trials import value_of

    numbers = sweeper.open_jobs()
    if not numbers:
        return
    runs = {r["study_trial"]: r for r in registry.list(sweep_id=sweep_id) if r["study_trial"] is not None}
    live = [runs[n] for n in numbers if n in runs and runs[n]["status"] == "running"]
    if live:
        driver.say(f"waiting for {len(live)} trial(s) left running: runs {', '.join(str(r['id']) for r in live)}")
        for final in driver.wait_for(live):
            runs[final["study_trial"]] = final
    for n in numbers:
        sweeper.tell(Job((), n), value_of(runs[n], driver.sweep["metric"]) if n in runs else None)
    driver.say(f"settled {len(numbers)} trial(s) left running by an earlier driver")


def _quoted(value: str) -> str:
    """A value for a Hydra override, taken literally (a quote or `${` in a path)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${") + "'"
