"""Sweeps: `mlws train -m` (start or resume), `mlws sweeps`, `mlws sweep ID`.

Before anything is recorded, the sweep is checked: Hydra composes it (unknown sweeper or key), the
grid's every trial (or one point of a sampled space) is planned and validated. Then the sweep is
recorded and Hydra's sweeper runs with the mlws launcher (mlws/sweeps/)."""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys

from ..errors import MlwsError
from .session import session, workspace_of

# Sweeper settings mlws decides for an Optuna sweep (the study lives in the registry's database).
OWNED_KEYS = ("hydra.sweeper.storage", "hydra.sweeper.study_name", "hydra.sweep.dir", "hydra/launcher")


def sweep(overrides, *, parallel: int = 1, max_failures: int | None = None, resume: bool = False,
          force: bool = False, detach: bool = False, command: str | None = None, workspace=None,
          sweep_id: int | None = None, out=None, labels=(), note: str = "") -> dict:
    """Start (or resume) the sweep these overrides describe; returns `view` of it when it ends.
    `labels`/`note` go on every trial (besides its `sweep-N` label); a resume keeps the sweep's own."""
    from ..history.labels import check_label, check_note
    from ..planning import plan
    from ..sweeps import multirun, space

    ws = workspace_of(workspace)
    labels = [check_label(label) for label in labels]
    check_note(note)
    if parallel < 1:
        raise MlwsError(f"--parallel must be at least 1 (got {parallel})")
    if max_failures is not None and max_failures < 0:
        raise MlwsError(f"--max-failures must be at least 0 (got {max_failures})")
    overrides = [o for o in overrides if o.lstrip("+").split("=", 1)[0] not in OWNED_KEYS]
    args = space.parse(overrides)
    settings = multirun.sweeper_settings(ws, overrides)
    config_space = settings.get("params") or {}
    search = space.space_of(args, config_space)
    if not search:
        raise MlwsError("nothing to sweep: give a key several values (model.lr=1e-3,3e-4), a range, or a "
                        "sampled space (hydra/sweeper=optuna 'model.lr=interval(1e-4,1e-2)')")
    optuna = "optuna" in str(settings.get("_target_", "")).lower()

    # Check every trial the grid will run (or one point of a sampled space) before recording anything.
    planned = {}
    if optuna:
        spec, _ = plan(ws, list(args.representative))
        n_trials = int(settings.get("n_trials") or 0)
        if n_trials < 1:
            raise MlwsError(f"hydra.sweeper.n_trials must be at least 1 (got {settings.get('n_trials')})")
        if _sampler(settings) == "GridSampler":
            if args.grid_size is None or config_space:
                raise MlwsError("Optuna's grid sampler takes lists and ranges on the command line only")
            n_trials = min(n_trials, args.grid_size)  # as the sweeper does: the grid is the whole study
        _check_direction(overrides, spec)
    else:
        jobs = multirun.grid_jobs(config_space, args.task)
        for job in jobs:
            try:
                planned[tuple(job)] = plan(ws, job, command=shlex.join(["mlws", "train", *job]))
            except MlwsError as e:
                raise MlwsError(f"trial {' '.join(job)}: {e}") from None
        spec = next(iter(planned.values()))[0]
        n_trials = len(jobs)
    monitor = spec.config.get("monitor") or {}
    registry = session(ws).registry
    family = _family(args)
    record = registry.sweeps.get(sweep_id) if sweep_id is not None else registry.sweeps.find(family)
    if record is not None and record["space"] != search:
        if sweep_id is not None or resume:
            if not force:
                raise MlwsError(f"sweep {record['id']}'s search space changed ({_space_change(record['space'], search)}); "
                                "resume it anyway with --force, or start a new sweep without --resume")
        else:
            record = None  # the same experiment with a new space: a new sweep
    if record is None and resume:
        raise MlwsError("no earlier sweep of these overrides to resume (mlws sweeps lists them)")
    if record is not None:
        _refuse_if_driven(record)
    earlier = (record or {}).get("settings") or {}
    settings_rec = {"n_trials": n_trials, "parallel": parallel, "max_failures": max_failures,
                    "sampler": _sampler(settings) if optuna else "grid", "hydra": list(args.hydra),
                    "labels": labels or earlier.get("labels") or [], "note": note or earlier.get("note") or ""}
    if record is None:
        sweep_id = registry.sweeps.create(
            command=command or shlex.join(["mlws", "train", "-m", *overrides]), overrides=list(overrides),
            space=search, sweeper="optuna" if optuna else _sweeper_name(settings), settings=settings_rec,
            experiment=spec.experiment, metric=monitor.get("metric"), mode=monitor.get("mode") or "max",
            base_run_id=_base_run(ws, registry, args), signature=family)
        resumed = False
    else:
        sweep_id, resumed = record["id"], True
        registry.sweeps.update(sweep_id, space=search, settings=settings_rec)
    if detach:
        return _detach(ws, registry, sweep_id, parallel, max_failures, force)
    registry.sweeps.take_over(sweep_id)
    return _drive(ws, registry, registry.sweeps.get(sweep_id), overrides, planned, optuna=optuna, n_trials=n_trials,
                  settings=settings, parallel=parallel, max_failures=max_failures, resumed=resumed, out=out)


def _drive(ws, registry, record, overrides, planned, *, optuna, n_trials, settings, parallel, max_failures,
           resumed, out) -> dict:
    from ..sweeps import multirun
    from ..sweeps.driver import Driver, SweepInterrupted
    sweep_id = record["id"]
    out = out or sys.stdout
    sweep_dir = ws.state_dir / "sweeps" / str(sweep_id)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    extra = {"hydra.sweep.dir": _quoted(str(sweep_dir))}
    study = None
    if optuna:
        from ..sweeps.study import StudyLink, quiet
        quiet()
        study = StudyLink(ws.registry_url, sweep_id)
    print(f"sweep {sweep_id}{' (resumed)' if resumed else ''}: {n_trials} trials of "
          f"{record['experiment'] or '(no experiment)'} over {', '.join(record['space'])}; objective "
          f"{record['metric']} ({record['mode']}), {parallel} at a time", file=out, flush=True)
    status, error = "finished", None
    try:
        with Driver(ws, registry, record, parallel=parallel, max_failures=max_failures, planned=planned,
                    study=study, out=out) as driver:
            if optuna:
                remaining = n_trials - _settle_study(study, driver, registry, sweep_id)
                given = {o.lstrip("+").split("=", 1)[0] for o in overrides}
                extra |= {"hydra.sweeper.storage": _quoted(study.url), "hydra.sweeper.study_name": study.name,
                          "hydra.sweeper.n_trials": max(remaining, 0),
                          "hydra.sweeper.direction": "minimize" if record["mode"] == "min" else "maximize"}
                extra |= {f"hydra.sweeper.{k}": v for k, v in (("n_jobs", parallel), ("max_failure_rate", 1.0))
                          if f"hydra.sweeper.{k}" not in given}
                seed = (settings.get("sampler") or {}).get("seed")
                if seed is not None and study.size():
                    # a seeded sampler restarted would draw the trials it already drew: go on from a
                    # seed of its own, still determined by the study's history
                    extra["hydra.sweeper.sampler.seed"] = int(seed) + study.size()
                if remaining <= 0:
                    driver.say(f"all {n_trials} trials of the study are complete")
            if not optuna or remaining > 0:
                try:
                    multirun.run(ws, [o for o in overrides if o.lstrip("+").split("=", 1)[0] not in extra]
                                 + [f"{k}={v}" for k, v in extra.items()])
                except (ValueError, RuntimeError) as e:
                    # Optuna's sweeper asks the study for its best trial at the end, which raises when
                    # none completed; its grid sampler stops the study when a failed trial ends the grid
                    if not optuna or (study.completed() and "Study.stop" not in str(e)):
                        raise
    except SweepInterrupted as e:
        status, error = "interrupted", str(e)
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
    return view(sweep_id, workspace=ws)


def _quoted(value: str) -> str:
    """A value for a Hydra override, taken literally (a quote or `${` in a path or a password)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${") + "'"


def _check_direction(overrides: list[str], spec) -> None:
    """Optuna optimises the way the run's monitor.mode says; a different direction is a mistake."""
    mode = (spec.config.get("monitor") or {}).get("mode") or "max"
    wanted = "minimize" if mode == "min" else "maximize"
    given = [o.split("=", 1)[1] for o in overrides if o.lstrip("+").split("=", 1)[0] == "hydra.sweeper.direction"]
    given = given[-1].lower() if given else wanted  # the sweeper's own default (minimize) is not a choice
    if given.split(".")[-1] != wanted:
        raise MlwsError(f"hydra.sweeper.direction={given} contradicts monitor.mode={mode}, which decides what is "
                        f"best in this sweep; change monitor.mode (or drop the direction)")


def _settle_study(study, driver, registry, sweep_id) -> int:
    """A resume: Optuna trials left 'running' by a driver that died are waited for (their run still
    goes on) or marked failed (no live run); returns the study's completed trials."""
    from ..sweeps.trials import value_of
    numbers = study.running_numbers()
    if numbers:
        runs = {r["study_trial"]: r for r in registry.list(sweep_id=sweep_id) if r["study_trial"] is not None}
        live = [runs[n] for n in numbers if n in runs and runs[n]["status"] == "running"]
        if live:
            driver.say(f"waiting for {len(live)} trial(s) left running: runs {', '.join(str(r['id']) for r in live)}")
            for final in driver.wait_for(live):
                runs[final["study_trial"]] = final
        for n in numbers:
            value = value_of(runs[n], driver.sweep["metric"]) if n in runs else None
            study.tell(n, value)
        driver.say(f"settled {len(numbers)} Optuna trial(s) left running by an earlier driver")
    return study.completed()


def _family(args) -> str:
    """Sweeps of the same fixed overrides and sweeper settings are one sweep when their space matches."""
    blob = json.dumps({"fixed": sorted(args.fixed), "hydra": sorted(args.hydra)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _space_change(old: dict, new: dict) -> str:
    parts = [f"{k}: {old.get(k, '(none)')} → {new.get(k, '(none)')}" for k in sorted(set(old) | set(new))
             if old.get(k) != new.get(k)]
    return "; ".join(parts)


def _driver_alive(record: dict) -> bool:
    """Does the process recorded as driving this sweep still run (on this host)?"""
    import socket

    from ..registry.liveness import process_alive
    return (record["status"] == "running" and record["host"] == socket.gethostname()
            and process_alive(record["pid"], record["pid_started"]))


def _refuse_if_driven(record: dict) -> None:
    # the process that started this one in the background (--detach) has handed the sweep over
    if record["pid"] not in (None, os.getpid(), os.getppid()) and _driver_alive(record):
        raise MlwsError(f"sweep {record['id']} is being run by process {record['pid']}; "
                        f"follow it with: mlws sweep {record['id']}")


def _sampler(settings: dict) -> str:
    target = str((settings.get("sampler") or {}).get("_target_", "optuna default"))
    return target.rsplit(".", 1)[-1]


def _sweeper_name(settings: dict) -> str:
    target = str(settings.get("_target_", "basic"))
    return "basic" if "BasicSweeper" in target else target.rsplit(".", 1)[-1]


def _base_run(ws, registry, args) -> int | None:
    """The run the sweep starts from: the parent mlws would choose for its fixed overrides alone."""
    from ..history.parent import choose_parent
    from ..planning import plan
    try:
        spec, _ = plan(ws, list(args.fixed))
    except MlwsError:
        return None
    candidates = registry.parent_candidates([e for e in (spec.experiment, spec.builds_on) if e])
    candidates = [c for c in candidates if c.get("status") == "succeeded"] or candidates
    return choose_parent(spec.config, spec.experiment, None, list(spec.overrides), candidates)


def _detach(ws, registry, sweep_id, parallel, max_failures, force) -> dict:
    """The driver in the background (`mlws sweep ID --resume`): it outlives the terminal."""
    log_dir = ws.state_dir / "sweeps" / str(sweep_id)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "driver.log"
    argv = [sys.executable, "-m", "mlws.cli.main", "sweep", str(sweep_id), "--resume", "--parallel", str(parallel)]
    argv += (["--max-failures", str(max_failures)] if max_failures is not None else []) + (["--force"] if force else [])
    with log.open("ab") as f:
        proc = subprocess.Popen(argv, cwd=ws.root, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)
    registry.sweeps.take_over(sweep_id, pid=proc.pid)
    return view(sweep_id, workspace=ws) | {"message": f"sweep {sweep_id} runs in the background (pid {proc.pid}); "
                                                      f"output: {log}; follow with: mlws sweep {sweep_id}"}


def resume(sweep_id: int, *, parallel: int | None = None, max_failures: int | None = None, force: bool = False,
           detach: bool = False, workspace=None, out=None) -> dict:
    """Run what a sweep still misses, with its recorded overrides."""
    s = session(workspace)
    record = s.registry.sweeps.get(int(sweep_id))
    stored = record["settings"] or {}
    return sweep(record["overrides"], parallel=parallel or stored.get("parallel") or 1,
                 max_failures=max_failures if max_failures is not None else stored.get("max_failures"),
                 resume=True, force=force, detach=detach, command=record["command"], workspace=s.workspace,
                 sweep_id=int(sweep_id), out=out)


def view(sweep_id: int, *, workspace=None) -> dict:
    """A sweep and its trials ranked best first, with the keys that vary between them."""
    from ..sweeps.ranking import rows
    s = session(workspace)
    record = _with_live_status(s.registry.sweeps.get(int(sweep_id)))
    trials = s.registry.list(sweep_id=int(sweep_id), with_config=True)
    keys, table = rows(trials, record["metric"], record["mode"])
    counts = {st: sum(1 for t in trials if t["status"] == st) for st in ("succeeded", "failed", "stopped", "running")}
    succeeded = {t["trial_key"] for t in trials if t["status"] == "succeeded"}
    unsucceeded = sorted({t["trial_key"] for t in trials if t["trial_key"] not in succeeded})
    return {"sweep": record, "varied": keys, "trials": table, "counts": counts, "unsucceeded": len(unsucceeded)}


def sweeps(*, limit: int | None = None, workspace=None) -> list[dict]:
    """The sweeps (the newest `limit`), oldest first, each with its trial counts and best value."""
    from ..sweeps.ranking import rank
    from ..sweeps.trials import value_of
    s = session(workspace)
    records = s.registry.sweeps.list(newest=limit)
    trials: dict[int, list[dict]] = {}
    for t in s.registry.sweeps.trials_summary([r["id"] for r in records]):
        trials.setdefault(t["sweep_id"], []).append(t | {"trial_index": t["id"]})
    out = []
    for r in records:
        mine = trials.get(r["id"], [])
        counts: dict[str, int] = {}
        for t in mine:
            counts[t["status"]] = counts.get(t["status"], 0) + 1
        ranked = rank(mine, r["metric"], r["mode"])
        top = ranked[0] if ranked and value_of(ranked[0], r["metric"]) is not None else None
        out.append(_with_live_status(r) | {"counts": counts, "best": top and {
            "run": top["id"], "value": value_of(top, r["metric"])}})
    return out


def count_sweeps(*, workspace=None) -> int:
    return session(workspace).registry.sweeps.count()


def _with_live_status(record: dict) -> dict:
    """A sweep recorded 'running' whose driver is gone was interrupted (killed, machine restarted)."""
    import socket
    if record["status"] == "running" and record["host"] == socket.gethostname() and not _driver_alive(record):
        return record | {"status": "interrupted"}
    return record
