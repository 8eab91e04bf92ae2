"""The sweep's driver: each job the sweeper asks for (through mlws's Hydra sweeper and launcher
plugins) becomes a run on the run's own backend (a fresh process, a Ray job, a managed job), up to
`parallel` at a time.

A job whose effective config already succeeded in this sweep is not run again (its value is
reused); one whose run still goes on (left by a driver that died) is waited for; everything else is
a new run with the next trial number. Ctrl-C stops the running trials; `max_failures` ends a sweep
that keeps failing."""

from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import dataclass

from ..errors import MlwsError
from .trials import decide, trial_key, value_of

_ACTIVE: list = []
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def active_driver() -> Driver:
    if not _ACTIVE:
        raise RuntimeError("hydra/launcher=mlws is used by `mlws train -m`, not on its own")
    return _ACTIVE[-1]


class SweepInterrupted(MlwsError):
    exit_code = 130


class TooManyFailures(MlwsError):
    exit_code = 1


@dataclass
class Trial:
    overrides: list
    spec: object = None
    patch: str = ""
    key: str = ""
    action: str = "new"  # new | done | adopt | same (as an earlier job of this batch) | invalid
    run: dict | None = None  # the run that answers for this job
    error: str | None = None
    twin: Trial | None = None


class Driver:
    def __init__(
        self,
        ws,
        registry,
        sweep: dict,
        *,
        parallel: int = 1,
        max_failures: int | None = None,
        planned: dict | None = None,
        sweeper=None,
        out=None,
        poll_s: float = 0.5,
        refresh_s: float = 2.0,
    ):
        self.ws, self.registry, self.sweep = ws, registry, sweep
        self.parallel, self.max_failures = parallel, max_failures
        self.planned = dict(planned or {})  # tuple(overrides) → (spec, patch), planned before recording
        self.sweeper = sweeper  # the sweeps.sweeper.Sweeper choosing the trials
        self.out = out or sys.stdout
        self.poll_s, self.refresh_s = poll_s, refresh_s
        self.failures = 0
        self.started = 0
        self.active: dict[int, Trial] = {}
        self._last_refresh = 0.0
        known = registry.list(sweep_id=sweep["id"])
        self._next_index = 1 + max((r["trial_index"] or 0 for r in known), default=0)
        from .budget import check_budget

        self.budget = check_budget((sweep.get("settings") or {}).get("budget"))  # USD; budget.py

    def __enter__(self):
        _ACTIVE.append(self)
        self._saved_env = {k: os.environ.get(k) for k in THREAD_VARS}
        if self.parallel > 1:
            # Trials on this machine share its cores: N processes each using every core for torch's
            # thread pool run several times slower than one at a time. Processes started from here
            # (local workers) get an equal share unless the user set these.
            share = str(max(1, (os.cpu_count() or 1) // self.parallel))
            for key in THREAD_VARS:
                os.environ.setdefault(key, share)
        return self

    def __exit__(self, *exc):
        _ACTIVE.remove(self)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def say(self, line: str) -> None:
        print(f"sweep {self.sweep['id']}: {line}", file=self.out, flush=True)

    # -- the launcher's call -------------------------------------------------------------------------
    def launch(self, jobs: list[list[str]]) -> list[float | None]:
        """Run these jobs (Hydra's batch); one value per job, None where the trial did not succeed."""
        known = self.registry.list(sweep_id=self.sweep["id"])
        seen: dict[str, Trial] = {}
        trials = [self._prepare(job, known, seen) for job in jobs]
        try:
            self._run(trials)
        except KeyboardInterrupt as e:
            how = _how(e, self.sweep)
            stopped = self.stop_active(how)
            raise SweepInterrupted(
                f"sweep {self.sweep['id']} {how.split(' ')[0]}"
                + (f"; stopped runs {', '.join(map(str, stopped))}" if stopped else "")
                + f"; resume with: {_resume_command(self.sweep)}"
            ) from None
        return [self._value(t) for t in trials]

    def _prepare(self, job: list[str], known: list[dict], seen: dict) -> Trial:
        from .multirun import hydra_set_aside

        planned = self.planned.get(tuple(job))
        t = Trial(overrides=self._in_command_order(job))
        if planned is None:
            from ..planning import plan

            try:
                with hydra_set_aside():
                    planned = plan(self.ws, t.overrides, command=shlex.join(["mlws", "train", *t.overrides]))
            except MlwsError as e:
                t.action, t.error = "invalid", str(e)
                self.failures += 1
                self.say(f"trial not run ({' '.join(t.overrides)}): {e}")
                return t
        t.spec, t.patch = planned
        t.key = trial_key(t.spec.config)
        if t.key in seen:
            t.action, t.twin = "same", seen[t.key]
            return t
        seen[t.key] = t
        t.action, t.run = decide([r for r in known if r["trial_key"] == t.key])
        if t.action == "done":
            self.say(f"trial {t.run['trial_index']} (run {t.run['id']}) already succeeded: {self._result(t.run)}")
        elif t.action == "adopt":
            self.say(f"trial {t.run['trial_index']} (run {t.run['id']}) is still running from before: waiting for it")
        return t

    def _in_command_order(self, job: list[str]) -> list[str]:
        """The job's overrides in the order the sweep's command gave the keys (Optuna's sweeper puts
        its parameters first), so a trial's recorded overrides read like the command."""
        order = {o.lstrip("+~").split("=", 1)[0]: i for i, o in enumerate(self.sweep["overrides"])}
        return sorted(job, key=lambda o: order.get(o.lstrip("+~").split("=", 1)[0], len(order)))

    # -- running -------------------------------------------------------------------------------------
    def _run(self, trials: list[Trial]) -> None:
        queue = [t for t in trials if t.action == "new"]
        for t in trials:
            if t.action == "adopt":
                self.active[t.run["id"]] = t
        while queue or self.active:
            while queue and len(self.active) < self.parallel:
                if self.budget is not None and not self._within_budget():
                    break
                t = queue.pop(0)
                self._start(t)
                if t.run is not None:
                    self.active[t.run["id"]] = t
            if not self.active:
                continue
            time.sleep(self.poll_s)
            if self.budget is not None:
                self._within_budget()  # stops the running trials once the spend reaches the budget
            for record in self._ended():
                t = self.active.pop(record["id"])
                t.run = record
                self._finished(t)

    def _within_budget(self) -> bool:
        """May one more trial start (False: wait for a running one)? Ends the sweep, stopping its
        running trials, once nothing more fits in its budget (budget.py)."""
        from .budget import GO, STOP, BudgetReached, verdict

        v = verdict(self.registry, self.sweep["id"], self.budget, list(self.active))
        if v.action == STOP:
            stopped = self.stop_active("the sweep's budget is spent") if v.spent >= self.budget else []
            raise BudgetReached(
                f"sweep {self.sweep['id']} stopped within its budget: {v.reason}"
                + (f"; stopped runs {', '.join(map(str, stopped))}" if stopped else "")
            )
        return v.action == GO

    def _start(self, t: Trial) -> None:
        from ..lifecycle import launch

        index = self._next_index
        trial = {
            "sweep_id": self.sweep["id"],
            "trial_key": t.key,
            "trial_index": index,
            "parent_id": self.sweep.get("base_run_id"),
            "study_trial": self.sweeper.number_of(t.overrides) if self.sweeper else None,
        }
        try:
            settings = self.sweep.get("settings") or {}
            t.run = launch(
                self.ws,
                self.registry,
                t.spec,
                t.patch,
                detach=True,
                trial=trial,
                note=settings.get("note") or "",
                labels=(f"sweep-{self.sweep['id']}", *settings.get("labels", ())),
            )
        except MlwsError as e:
            if not self.started:  # the first trial's backend refused: every trial would (an unreachable cluster)
                raise
            t.error = str(e)
            self.failures += 1
            self.say(f"trial {index} could not start: {e}")
            self._check_failures()
            return
        self._next_index += 1
        self.started += 1
        self.say(f"trial {index} → run {t.run['id']} started: {' '.join(self._varied(t))}")

    def _varied(self, t: Trial) -> list[str]:
        """The trial's swept overrides, as shown: a sampled float to 4 significant digits."""
        swept = set(self.sweep["space"])
        return [_short_value(o) for o in t.overrides if o.split("=", 1)[0] in swept] or t.overrides

    def _ended(self) -> list[dict]:
        """The active runs that have ended; remote ones are asked every `refresh_s`."""
        from ..lifecycle import refresh_status
        from ..registry.liveness import owned_here

        rows = self.registry.list(ids=list(self.active))
        self.registry.reap_dead(rows)
        remote = [r for r in rows if r["status"] == "running" and not owned_here(r)]
        if remote and time.monotonic() - self._last_refresh >= self.refresh_s:
            self._last_refresh = time.monotonic()
            for warning in refresh_status(self.registry, remote, self.ws.root):
                self.say(f"warning: {warning}")
        return [r for r in self.registry.list(ids=list(self.active)) if r["status"] != "running"]

    def _finished(self, t: Trial) -> None:
        run = t.run
        if run["status"] == "succeeded":
            self.say(f"trial {run['trial_index']} (run {run['id']}) succeeded: {self._result(run)}")
            return
        why = run.get("error") or run.get("stop_reason") or ""
        self.say(
            f"trial {run['trial_index']} (run {run['id']}) {run['status']}"
            + (f": {why.splitlines()[0]}" if why else "")
        )
        self.failures += 1
        self._check_failures()

    def _check_failures(self) -> None:
        if self.max_failures is not None and self.failures > self.max_failures:
            stopped = self.stop_active(f"the sweep stopped: more than {self.max_failures} trials failed")
            raise TooManyFailures(
                f"sweep {self.sweep['id']} stopped: {self.failures} trials failed "
                f"(max_failures={self.max_failures})"
                + (f"; stopped runs {', '.join(map(str, stopped))}" if stopped else "")
            )

    def stop_active(self, reason: str) -> list[int]:
        """Stop the trials still running (each keeps its last checkpoint and is recorded 'stopped')."""
        from ..lifecycle import stop

        stopped = []
        for run_id in list(self.active):
            try:
                stop(self.registry, self.ws.root, run_id, timeout=60)
                stopped.append(run_id)
            except MlwsError as e:
                self.say(f"warning: could not stop run {run_id}: {e}")
            self.active.pop(run_id, None)
        if stopped:
            self.say(f"{reason}: stopped runs {', '.join(map(str, stopped))}")
        return stopped

    def _result(self, run: dict) -> str:
        metric = self.sweep.get("metric")
        value = value_of(run, metric)
        return f"{metric}={value:.4f}" if value is not None else "no value for " + str(metric)

    def _value(self, t: Trial) -> float | None:
        if t.twin is not None:
            return self._value(t.twin)
        return value_of(t.run, self.sweep.get("metric")) if t.run is not None else None

    def wait_for(self, runs: list[dict]) -> list[dict]:
        """Wait for runs left going by an earlier driver; their final records."""
        self.active.update({r["id"]: Trial(overrides=[], run=r, action="adopt") for r in runs})
        finals = []
        try:
            while self.active:
                time.sleep(self.poll_s)
                for record in self._ended():
                    self.active.pop(record["id"])
                    finals.append(record)
        except KeyboardInterrupt as e:
            how = _how(e, self.sweep)
            self.stop_active(how)
            raise SweepInterrupted(
                f"sweep {self.sweep['id']} {how.split(' ')[0]}; resume with: {_resume_command(self.sweep)}"
            ) from None
        return finals


def _how(interrupt: KeyboardInterrupt, sweep: dict) -> str:
    from .stopping import StopRequested

    if isinstance(interrupt, StopRequested):
        return f"stopped (mlws sweep {sweep['id']} --stop)"
    return "interrupted (Ctrl-C)"


def _resume_command(sweep: dict) -> str:
    """An ablation's sweep resumes with its own command (ops/ablate_sweep.py), any other with --resume."""
    return sweep["command"] if sweep.get("sweeper") == "ablate" else f"mlws sweep {sweep['id']} --resume"


def _short_value(override: str) -> str:
    """Pure: `model.lr=0.005068463863636869` -> `model.lr=0.005068`; anything else as it is."""
    key, sep, value = override.partition("=")
    try:
        number = float(value)
    except ValueError:
        return override
    return f"{key}{sep}{number:.4g}" if "." in value or "e" in value.lower() else override
