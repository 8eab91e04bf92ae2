"""Replicate groups: `mlws train ... --seeds K` and `mlws rerun N --seeds K` record K runs that
differ only in `seed` as one sweep over `seed` (so a group is recorded, resumable, runs `--parallel`
on any backend, and the same command again only runs what is missing); `group(ID)` summarizes one.
Seeds count up from the config's own seed (seed=42 --seeds 3: 42, 43, 44)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import MlwsError
from ..history.groups import SEED_KEY, group_runs, is_group, summary
from .session import session, workspace_of


def train_seeds(
    overrides,
    seeds: int,
    *,
    parallel: int = 1,
    detach: bool = False,
    labels=(),
    note: str = "",
    command: str | None = None,
    workspace=None,
    out=None,
) -> dict:
    """Run these overrides once per seed as one replicate group; returns the sweep's view plus `group`."""
    from ..sweeps.space import parse
    from .sweeps import sweep

    check_seeds(seeds)
    ws = workspace_of(workspace)
    rest = [o for o in overrides if _key(o) != SEED_KEY]
    swept = parse(rest).swept
    if swept:
        raise MlwsError(
            f"--seeds repeats one config, but {', '.join(swept)} has several values: run the sweep "
            f"with -m and add seed=42,43,44 to it, or give one value"
        )
    base = _base_seed(ws, overrides, rest)
    seed_list = ",".join(str(base + i) for i in range(seeds))
    command = command or shlex.join(["mlws", "train", *overrides, "--seeds", str(seeds)])
    result = sweep(
        [*rest, f"{SEED_KEY}={seed_list}"],
        parallel=parallel,
        detach=detach,
        command=command,
        labels=labels,
        note=note,
        workspace=ws,
        out=out,
    )
    return with_group(result, ws)


def rerun_seeds(run_id: int, seeds: int, *, parallel: int = 1, detach: bool = False, workspace=None, out=None) -> dict:
    """Run N's overrides once per seed (from N's seed up) as a replicate group. Refused, with the keys
    named, when those overrides no longer compose to N's recorded config (its files changed since)."""
    from ..history.diff import change_lines, config_diff
    from ..planning import plan

    check_seeds(seeds)
    ws = workspace_of(workspace)
    old = session(ws).registry.get(int(run_id))
    rest = [o for o in old["overrides"] if _key(o) != SEED_KEY]
    seed = (old.get("config") or {}).get(SEED_KEY)
    if not isinstance(seed, int):
        raise MlwsError(f"run {run_id} records no integer seed; rerun it without --seeds")
    spec, _ = plan(ws, [*rest, f"{SEED_KEY}={seed}"])
    diff = config_diff(old.get("config") or {}, spec.config)
    lines = change_lines(diff)
    if lines:
        raise MlwsError(
            f"run {run_id}'s overrides no longer give its config ({'; '.join(lines)}): replicates would "
            f"not be comparable; `mlws rerun {run_id}` runs its recorded config once"
        )
    return train_seeds(
        [*rest, f"{SEED_KEY}={seed}"],
        seeds,
        parallel=parallel,
        detach=detach,
        note=f"replicates of run {run_id}",
        command=f"mlws rerun {run_id} --seeds {seeds}",
        workspace=ws,
        out=out,
    )


def group(group_id: int, *, workspace=None) -> dict:
    """A replicate group's summary of its key metric (mean ± sd, 95% CI) and its runs."""
    registry = session(workspace).registry
    record = registry.sweeps.get(int(group_id))
    if not is_group(record):
        raise MlwsError(f"sweep {group_id} is not a replicate group (its space is {', '.join(record['space'])})")
    return summary(int(group_id), group_runs(registry, group_id), record.get("metric"))


def with_group(result: dict, ws) -> dict:
    return result | {"group": group(result["sweep"]["id"], workspace=ws)}


def check_seeds(seeds) -> None:
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise MlwsError(f"--seeds must be a whole number of at least 1 (got {seeds!r})")


def _key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0]


def _base_seed(ws, overrides: list[str], rest: list[str]) -> int:
    """The first seed: the one given (seed=7), else the composed config's."""
    given = [o.split("=", 1)[1] for o in overrides if _key(o) == SEED_KEY and "=" in o]
    if given:
        try:
            return int(given[-1])
        except ValueError:
            raise MlwsError(f"seed={given[-1]}: with --seeds, give one whole number as the first seed") from None
    from ..planning import plan

    seed = plan(ws, list(rest))[0].config.get(SEED_KEY)
    if not isinstance(seed, int):
        raise MlwsError(f"the config's seed is {seed!r}, not a whole number: give seed=N with --seeds")
    return seed


def groups_of(records: Sequence[Mapping[str, Any]], *, workspace=None) -> list[dict]:
    """The summaries of the replicate groups these runs (`runs --json` rows) belong to, oldest first."""
    from ..history.groups import group_ids

    wanted = sorted({r["sweep_id"] for r in records if r.get("sweep_id") is not None})
    if not wanted:
        return []
    registry = session(workspace).registry
    groups = group_ids(registry)
    return [group(g, workspace=workspace) for g in wanted if g in groups]
