"""Starting (or resuming) a sweep: `mlws train -m ...`, `mlws sweep ID --resume`.

Before anything is recorded the sweep is checked: Hydra composes its sweeper node (an unknown
sweeper or setting is an error), the adapter that node names is built (a bad range is an error), and
every job it lists up front (the whole grid, or one point of a sampled space) is planned and
validated. Then the sweep is recorded, or found again, and driven (drive.py), or handed to a
background driver."""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass

from ..errors import MlwsError

# Settings mlws decides for every sweep: where Hydra's multirun writes, and its launcher.
OWNED_KEYS = ("hydra.sweep.dir", "hydra/launcher")


@dataclass(frozen=True)
class Options:
    parallel: int = 1
    max_failures: int | None = None
    resume: bool = False
    force: bool = False
    detach: bool = False
    command: str | None = None
    sweep_id: int | None = None
    labels: tuple = ()
    note: str = ""
    budget: float | None = None  # USD for the whole sweep (budget.py); a resume keeps the recorded one


def start(ws, registry, overrides: list[str], options: Options, out=None) -> int:
    """Check, record and drive (or detach) the sweep these overrides describe; returns its id."""
    from ..history.labels import check_label, check_note
    from . import multirun, records, space
    from .sweeper import sweeper_for

    labels = [check_label(label) for label in options.labels]
    check_note(options.note)
    if options.parallel < 1:
        raise MlwsError(f"--parallel must be at least 1 (got {options.parallel})")
    if options.max_failures is not None and options.max_failures < 0:
        raise MlwsError(f"--max-failures must be at least 0 (got {options.max_failures})")
    from .budget import check_budget

    check_budget(options.budget)
    overrides = [o for o in overrides if o.lstrip("+").split("=", 1)[0] not in OWNED_KEYS]
    args = space.parse(overrides)
    sweeper = sweeper_for(multirun.sweeper_settings(ws, overrides), args, workspace=ws.root)
    if not sweeper.space:
        raise MlwsError(
            "nothing to sweep: give a key several values (model.lr=1e-3,3e-4), a range, or a "
            "sampled space (hydra/sweeper=optuna 'model.lr=interval(1e-4,1e-2)')"
        )
    planned = _check(ws, sweeper)
    spec = next(iter(planned.values()))[0]
    monitor = spec.config.get("monitor") or {}
    sweeper.check_objective(monitor.get("mode") or "max")

    record = records.earlier_sweep(
        registry, args, sweeper.space, sweep_id=options.sweep_id, resume=options.resume, force=options.force
    )
    follows = None
    if record is not None:  # its trials and the ones to run must share their config outside the swept keys
        from .comparable import changed_keys, refusal

        changed = changed_keys(registry, record, planned, sweeper.space)
        if changed and not options.force:
            raise MlwsError(refusal(record, changed))
        if changed:
            follows, record = record["id"], None
            print(
                f"sweep {follows}'s trials were built on another config ({', '.join(changed)}): a new sweep follows it",
                file=out or sys.stdout,
                flush=True,
            )
    earlier = (record or {}).get("settings") or {}
    budget = options.budget if options.budget is not None else earlier.get("budget")
    if budget is not None:
        from .budget import priced

        unpriced = priced(spec.config)
        if unpriced:
            raise MlwsError(
                f"--budget needs a price for each trial, and these runs have none ({unpriced}); "
                "set cost.local_hourly (this machine), compute.hourly_rate (Ray) or use a priced cloud"
            )
    settings = {
        "n_trials": sweeper.n_trials,
        "parallel": options.parallel,
        "max_failures": options.max_failures,
        **sweeper.record(),
        "hydra": list(args.hydra),
        "labels": labels or earlier.get("labels") or [],
        "note": options.note or earlier.get("note") or "",
        "state": earlier.get("state") or {},
        **({"budget": budget} if budget is not None else {}),
        **({"follows": follows} if follows is not None else {}),
    }
    if record is None:
        sweep_id = registry.sweeps.create(
            command=options.command or shlex.join(["mlws", "train", "-m", *overrides]),
            overrides=list(overrides),
            space=sweeper.space,
            sweeper=sweeper.name,
            settings=settings,
            experiment=spec.experiment,
            metric=monitor.get("metric"),
            mode=monitor.get("mode") or "max",
            base_run_id=records.base_run(ws, registry, args),
            signature=records.family(args),
        )
    else:
        sweep_id = record["id"]
        registry.sweeps.update(sweep_id, space=sweeper.space, settings=settings)
    if options.detach:
        return detach(ws, registry, sweep_id, options)
    registry.sweeps.take_over(sweep_id)
    from .drive import drive

    # jobs planned above are not planned again (a grid's); the others are planned by the driver as they come
    drive(
        ws,
        registry,
        registry.sweeps.get(sweep_id),
        sweeper,
        overrides,
        planned,
        parallel=options.parallel,
        max_failures=options.max_failures,
        # resumed only when trials were recorded before: a fresh --detach driver resumes nothing
        resumed=record is not None and bool(registry.list(sweep_id=sweep_id)),
        out=out,
    )
    return sweep_id


def _check(ws, sweeper) -> dict:
    """Plan every job the sweeper lists up front; {tuple(job): (spec, patch)}."""
    from ..planning import plan

    planned = {}
    for job in sweeper.jobs_to_check():
        try:
            planned[tuple(job)] = plan(ws, job, command=shlex.join(["mlws", "train", *job]))
        except MlwsError as e:
            raise MlwsError(f"trial {' '.join(job)}: {e}") from None
    return planned


def resume(
    ws,
    registry,
    sweep_id: int,
    *,
    parallel: int | None,
    max_failures: int | None,
    force: bool,
    detach: bool,
    out=None,
    budget: float | None = None,
) -> int:
    """Run what a sweep still misses, with its recorded overrides."""
    record = registry.sweeps.get(int(sweep_id))
    if record["sweeper"] == "ablate":  # its trials are configurations, not a search space (ops/ablate_sweep.py)
        raise MlwsError(f"sweep {sweep_id} is an ablation: the same command resumes it: {record['command']}")
    stored = record["settings"] or {}
    options = Options(
        parallel=parallel or stored.get("parallel") or 1,
        max_failures=max_failures if max_failures is not None else stored.get("max_failures"),
        resume=True,
        force=force,
        detach=detach,
        command=record["command"],
        sweep_id=int(sweep_id),
        budget=budget,
    )
    return start(ws, registry, record["overrides"], options, out=out)


def detach(ws, registry, sweep_id: int, options: Options) -> int:
    """The driver in the background (`mlws sweep ID --resume`): it outlives the terminal."""
    log = driver_log(ws, sweep_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "mlws.cli.main",
        "sweep",
        str(sweep_id),
        "--resume",
        "--parallel",
        str(options.parallel),
    ]
    argv += ["--max-failures", str(options.max_failures)] if options.max_failures is not None else []
    argv += ["--force"] if options.force else []
    with log.open("ab") as f:
        proc = subprocess.Popen(
            argv, cwd=ws.root, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, start_new_session=True
        )
    registry.sweeps.take_over(sweep_id, pid=proc.pid)
    return sweep_id


def driver_log(ws, sweep_id: int):
    return ws.state_dir / "sweeps" / str(sweep_id) / "driver.log"
