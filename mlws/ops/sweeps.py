"""Sweeps: `mlws train -m` (start or resume), `mlws sweeps`, `mlws sweep ID`. Each call opens the
workspace's registry and hands over to mlws/sweeps/ (start.py checks, records and drives a sweep;
views.py reads them); which sweeper chooses the trials is the sweep's config, never decided here."""

from __future__ import annotations

from .session import session


def sweep(
    overrides,
    *,
    parallel: int = 1,
    max_failures: int | None = None,
    resume: bool = False,
    force: bool = False,
    detach: bool = False,
    command: str | None = None,
    workspace=None,
    sweep_id: int | None = None,
    out=None,
    labels=(),
    note: str = "",
    budget: float | None = None,
) -> dict:
    """Start (or resume) the sweep these overrides describe; returns `view` of it when it ends.
    `labels`/`note` go on every trial (besides its `sweep-N` label); a resume keeps the sweep's own."""
    from ..sweeps.start import Options, start

    s = session(workspace)
    options = Options(
        parallel=parallel,
        max_failures=max_failures,
        resume=resume,
        force=force,
        detach=detach,
        command=command,
        sweep_id=sweep_id,
        labels=tuple(labels),
        note=note,
        budget=budget,
    )
    return _result(s, start(s.workspace, s.registry, list(overrides), options, out=out), detach)


def resume(
    sweep_id: int,
    *,
    parallel: int | None = None,
    max_failures: int | None = None,
    force: bool = False,
    detach: bool = False,
    workspace=None,
    out=None,
    budget: float | None = None,
) -> dict:
    """Run what a sweep still misses, with its recorded overrides (and budget, unless `budget`)."""
    from ..sweeps.start import resume as resume_sweep

    s = session(workspace)
    return _result(
        s,
        resume_sweep(
            s.workspace,
            s.registry,
            sweep_id,
            parallel=parallel,
            max_failures=max_failures,
            force=force,
            detach=detach,
            out=out,
            budget=budget,
        ),
        detach,
    )


def _result(s, sweep_id: int, detached: bool) -> dict:
    result = view(sweep_id, workspace=s.workspace)
    if detached:
        from ..sweeps.start import driver_log

        pid = result["sweep"]["pid"]
        result["message"] = (
            f"sweep {sweep_id} runs in the background (pid {pid}); output: "
            f"{driver_log(s.workspace, sweep_id)}; follow with: mlws sweep {sweep_id}"
        )
    return result


def view(sweep_id: int, *, workspace=None) -> dict:
    """A sweep and its trials ranked best first, with the keys that vary between them."""
    from ..sweeps.views import view as sweep_view
    from .cost import sweep_costs

    registry = session(workspace).registry
    return sweep_costs(registry, sweep_view(registry, sweep_id))


def sweeps(*, limit: int | None = None, workspace=None) -> list[dict]:
    """The sweeps (the newest `limit`), oldest first, each with its trial counts and best value."""
    from ..sweeps.views import listing

    return listing(session(workspace).registry, limit)


def count_sweeps(*, workspace=None) -> int:
    return session(workspace).registry.sweeps.count()
