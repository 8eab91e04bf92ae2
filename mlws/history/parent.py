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
rerun or trial's parent is an older run of its experiment or of one it builds on, so no chain can
loop. `derive_parents` applies the rules to a whole history; `relink`, run for each new run, changes
only what the new run can change, and the tests hold the two equal over thousands of histories.
"""

from __future__ import annotations

from ..flatten import flatten


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


def derive_parents(
    runs: list[dict], builds: dict[str, str | None], only: set[str] | None = None
) -> dict[int, int | None]:
    """{id: parent} for the runs (of experiments in `only`, if given) whose parent these rules choose.

    `runs`: every run of the experiments concerned, each {id, experiment, overrides, config,
    rerun_of, sweep_id}; `builds`: {experiment: the experiment it builds on}."""
    by_experiment = _by_experiment(runs)
    flat: dict[int, dict] = {}
    return {
        r["id"]: _derive(r, by_experiment, builds, flat)
        for r in runs
        if not is_fixed(r) and (only is None or r["experiment"] in only)
    }


def relink(new: dict, runs: list[dict], builds: dict[str, str | None], load_configs=None) -> dict[int, int | None]:
    """The parents that recording `new` (the newest run) sets or changes: what `derive_parents`
    would choose over all the runs, computed from what the new run can change (the tests hold the
    two equal). `runs`: the runs of relevant(new's experiment), `new` included, with their current
    `parent_id`; a run without its `config` gets it from `load_configs(ids) -> {id: config}` when
    a comparison needs it (a sweep's trial usually needs none)."""
    experiment = new["experiment"]
    by_experiment = _by_experiment(runs)
    by_id = {r["id"]: r for r in runs}
    parent_of = lambda run: by_id.get(run.get("parent_id"))  # noqa: E731
    # what to choose again, and how: "derive" by the rules, or "nearer" (is the new run closer
    # than the current parent: it joined candidates that are otherwise unchanged)
    todo: list[tuple[dict, str]] = [] if is_fixed(new) else [(new, "derive")]
    if is_plain(new):  # a plain run is a candidate for its experiment's runs with overrides
        todo += [
            (r, "nearer")
            for r in by_experiment.get(experiment, [])
            if r is not new and not is_fixed(r) and not is_plain(r)
        ]
    first = len(by_experiment.get(experiment, [])) == 1
    for name in family(experiment, builds) - {experiment}:  # experiments that build on it...
        chain = ancestors(name, builds)
        if any(by_experiment.get(between) for between in chain[: chain.index(experiment)]):
            continue  # ...with no runs in between: the new run is above their runs
        for run in by_experiment.get(name, []):
            current = parent_of(run)
            if is_fixed(run):
                continue
            if is_plain(run) or (first and current is not None and current["experiment"] != name):
                todo.append((run, "derive"))  # by ids alone; or its candidates above were another experiment's
            else:
                todo.append((run, "nearer"))  # its own experiment's candidates stay; the new run joins them
    _load_missing(_compared(todo, new, by_experiment, builds, parent_of), load_configs)
    flat: dict[int, dict] = {}
    out = {}
    for run, how in todo:
        if how == "derive":
            out[run["id"]] = _derive(run, by_experiment, builds, flat)
        elif parent_of(run) is None or _differing(_flat_of(new, flat), _flat_of(run, flat)) <= _differing(
            _flat_of(parent_of(run), flat), _flat_of(run, flat)
        ):  # ties: the newer run
            out[run["id"]] = new["id"]
    return {i: p for i, p in out.items() if by_id[i].get("parent_id") != p}


def _compared(todo, new, by_experiment, builds, parent_of) -> list[dict]:
    """The runs whose configs the choices in `todo` compare."""
    runs = []
    for run, how in todo:
        if is_plain(run):
            continue  # chosen by ids alone
        if how == "nearer":
            runs += [run, new] + ([parent_of(run)] if parent_of(run) is not None else [])
        else:
            above = next((by_experiment[a] for a in ancestors(run["experiment"], builds) if by_experiment.get(a)), [])
            runs += [run, *by_experiment.get(run["experiment"], []), *above]
    return runs


def _load_missing(runs: list[dict], load_configs) -> None:
    missing = {r["id"]: r for r in runs if "config" not in r}
    ids = sorted(missing)
    for start in range(0, len(ids), 500):  # a query's parameters are limited
        for run_id, config in load_configs(ids[start : start + 500]).items():
            missing[run_id]["config"] = config


def _by_experiment(runs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in sorted(runs, key=lambda r: r["id"]):
        out.setdefault(r["experiment"], []).append(r)
    return out


def _derive(r: dict, by_experiment: dict, builds: dict, flat: dict) -> int | None:
    above = next((by_experiment[a] for a in ancestors(r["experiment"], builds) if by_experiment.get(a)), [])
    own = [c for c in by_experiment.get(r["experiment"], []) if c["id"] != r["id"]]
    if is_plain(r):
        return _from_above(r["id"], above) if above else _latest([c for c in own if is_plain(c) and c["id"] < r["id"]])
    return _closest(r["config"], [c for c in own if is_plain(c) or c["id"] < r["id"]] + above, flat)


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


def _closest(config: dict, candidates: list[dict], flat: dict[int, dict] | None = None) -> int | None:
    """The candidate whose config differs from `config` in the fewest keys; ties: the highest id.
    `flat`: flattened configs by run id, kept across calls (a relink compares each run with many)."""
    if not candidates:
        return None
    flat = {} if flat is None else flat
    mine = flatten(config or {})
    return -min((_differing(_flat_of(c, flat), mine), -c["id"]) for c in candidates)[1]


def _flat_of(run: dict, flat: dict[int, dict]) -> dict:
    if run["id"] not in flat:
        flat[run["id"]] = flatten(run["config"] or {})
    return flat[run["id"]]


def _differing(a: dict, b: dict, ignore: tuple[str, ...] = ("description",)) -> int:
    """How many keys differ (changed, added or removed), as change_count(config_diff(...)) counts."""
    return sum(1 for k in a.keys() | b.keys() if k not in ignore and (k not in a or k not in b or a[k] != b[k]))


def choose_parent(
    config: dict, experiment: str | None, builds_on: str | None, overrides: list[str], candidates: list[dict]
) -> int | None:
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
