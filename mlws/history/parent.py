"""Which run a run builds on. Pure: the caller supplies the runs and the experiments' inheritance.

The experiments' inheritance decides the story, whatever the order runs were made in; a parent is
chosen again each time a run of the experiment or of one it builds on is recorded (`relink`).

A run of experiment E, where A is the nearest experiment E builds on (directly or further up) that
has runs:
1. With no extra overrides ("plain"): a run of A: the latest plain one made before it, else the
   first plain one made after it, else the latest other run of A before it, else the first after.
   No run of A at all: the latest earlier plain run of E, else a root.
2. With extra overrides: among the plain runs of E, the runs of E made before it and the runs of A,
   the one whose effective config differs in the fewest keys (`description` ignored); ties go to
   the highest id. None: a root.
3. A rerun or a sweep's trial is derived from the run it repeats or the sweep's base: its parent is
   set when it is recorded and never chosen again.
A run of no experiment: rule 2 over earlier runs of any experiment, chosen once (`choose_parent`).

Every parent ranks below its child by (depth of the experiment, plain before overrides, id), and a
rerun or trial's parent is an older run of its own experiment, so no chain can loop.
"""
from __future__ import annotations

from .diff import change_count, config_diff


def has_extra_overrides(experiment: str | None, overrides: list[str]) -> bool:
    return any(o != f"+experiment={experiment}" for o in overrides)


def is_plain(run: dict) -> bool:
    return not has_extra_overrides(run["experiment"], run["overrides"])


def is_fixed(run: dict) -> bool:
    """A rerun or a sweep's trial: derived from a run it names, not chosen by these rules."""
    return run.get("rerun_of") is not None or run.get("sweep_id") is not None or not run.get("experiment")


def ancestors(experiment: str | None, builds: dict[str, str | None]) -> list[str]:
    """The experiments `experiment` builds on, nearest first (a loop in the files ends the walk)."""
    out: list[str] = []
    name = builds.get(experiment) if experiment else None
    while name and name != experiment and name not in out:
        out.append(name)
        name = builds.get(name)
    return out


def family(experiment: str, builds: dict[str, str | None]) -> set[str]:
    """`experiment` and every experiment that builds on it: whose runs' parents a new run of it may change."""
    return {experiment} | {name for name in builds if experiment in ancestors(name, builds)}


def relevant(experiment: str, builds: dict[str, str | None]) -> set[str]:
    """The experiments whose runs decide the parents of the family's runs."""
    return family(experiment, builds) | set(ancestors(experiment, builds))


def derive_parents(runs: list[dict], builds: dict[str, str | None], only: set[str] | None = None) -> dict[int, int | None]:
    """{id: parent} for the runs (of experiments in `only`, if given) whose parent these rules choose.

    `runs`: every run of the experiments concerned, each {id, experiment, overrides, config,
    rerun_of, sweep_id}; `builds`: {experiment: the experiment it builds on}."""
    by_experiment: dict[str, list[dict]] = {}
    for r in sorted(runs, key=lambda r: r["id"]):
        by_experiment.setdefault(r["experiment"], []).append(r)
    out = {}
    for r in runs:
        if is_fixed(r) or (only is not None and r["experiment"] not in only):
            continue
        above = next((by_experiment[a] for a in ancestors(r["experiment"], builds) if by_experiment.get(a)), [])
        own = [c for c in by_experiment.get(r["experiment"], []) if c["id"] != r["id"]]
        if is_plain(r):
            out[r["id"]] = _from_above(r["id"], above) if above else _latest([c for c in own if is_plain(c) and c["id"] < r["id"]])
        else:
            candidates = [c for c in own if is_plain(c) or c["id"] < r["id"]] + above
            out[r["id"]] = _closest(r["config"], candidates)
    return out


def _from_above(run_id: int, above: list[dict]) -> int:
    plain = [c for c in above if is_plain(c)]
    for group in (plain, above):
        earlier = [c["id"] for c in group if c["id"] < run_id]
        if earlier:
            return max(earlier)
        if group:
            return min(c["id"] for c in group)
    raise ValueError("no runs above")  # the caller passes a non-empty list


def _latest(runs: list[dict]) -> int | None:
    return max((c["id"] for c in runs), default=None)


def _closest(config: dict, candidates: list[dict]) -> int | None:
    if not candidates:
        return None
    return -min((change_count(config_diff(c["config"], config)), -c["id"]) for c in candidates)[1]


def choose_parent(config: dict, experiment: str | None, builds_on: str | None, overrides: list[str],
                  candidates: list[dict]) -> int | None:
    """A first choice at record time from earlier runs (a run of no experiment keeps it; a sweep's
    base run is chosen so). `candidates`: earlier runs, each {id, experiment, overrides, config}."""
    if not candidates:
        return None
    if builds_on and not has_extra_overrides(experiment, overrides):
        of_parent = sorted((c for c in candidates if c["experiment"] == builds_on), key=lambda c: c["id"])
        plain = [c for c in of_parent if not has_extra_overrides(builds_on, c["overrides"])]
        if plain or of_parent:
            return (plain or of_parent)[-1]["id"]
    return _closest(config, candidates)
