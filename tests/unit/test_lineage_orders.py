"""The lineage follows the experiments' inheritance whatever the order runs were made in.

Runs are recorded one at a time in every order of a set (and many seeded orders of the README's
runs); after each, the parents a new run may change are chosen again as `mlws train` does
(mlws.lifecycle.relink). The story each run tells must be the same in every order."""

import itertools
import random

import pytest

from mlws.history.parent import derive_parents, family, relevant, relink

from ..support.lineage_story import BUILDS, README, N, config, record_in_order


def story(runs: list[dict], run: dict) -> list[str]:
    """The chain root → run, as experiment names (a run with overrides marked with a `+`)."""
    by_id = {r["id"]: r for r in runs}
    chain, seen = [], set()
    while run is not None and run["id"] not in seen:
        seen.add(run["id"])
        chain.insert(0, run["experiment"] + ("+" if len(run["overrides"]) > 1 else ""))
        run = by_id.get(run["parent_id"])
    return chain


def stories(runs: list[dict]) -> dict:
    """{(experiment, overrides): the story of each such run}, the same whichever ids the runs got."""
    out: dict = {}
    for r in runs:
        out.setdefault((r["experiment"], tuple(r["overrides"])), []).append(story(runs, r))
    return sorted((k, sorted(v)) for k, v in out.items())


def expected_story(experiment: str, extra: tuple, present: set[str]) -> list[str]:
    k = int(experiment.split("_")[1])
    chain = [f"model_{j:02d}" for j in range(1, k + 1) if f"model_{j:02d}" in present]
    return chain + [experiment + "+"] if extra else chain


def check(order):
    runs = record_in_order(order)
    # recorded one at a time, re-linking only what each new run may change = choosing all at the end
    full = derive_parents(runs, BUILDS)
    assert {r["id"]: r["parent_id"] for r in runs} == full
    plain = {e for e, extra in order if not extra}
    for r, (experiment, extra) in zip(runs, order):
        assert story(runs, r) == expected_story(experiment, extra, plain), (order, r)
    return stories(runs)


SMALL = [
    ("model_01", ()),
    ("model_02", ()),
    ("model_03", ()),
    ("model_03", ("data.batch_size=32",)),
    ("model_12", ()),
    ("model_12", ("model.lr=3e-4",)),
]


def test_every_order_of_six_runs_tells_the_same_story():
    """720 orders: children before ancestors, an override run before its plain run, a gap (04-11)."""
    seen = {repr(check(list(order))) for order in itertools.permutations(SMALL)}
    assert len(seen) == 1


def test_readme_order_reads_from_the_baseline():
    runs = record_in_order(README)
    assert story(runs, runs[-1]) == [f"model_{k:02d}" for k in range(1, N + 1)]
    assert story(runs, runs[0]) == story(runs, runs[-1])  # the first model_12 too
    assert story(runs, runs[1])[-2:] == ["model_12", "model_12+"]  # the lr change: after a plain model_12
    assert story(runs, runs[2]) == ["model_01", "model_02", "model_03", "model_03+"]


@pytest.mark.parametrize("seed", range(3))
def test_many_orders_of_the_readme_runs_tell_the_same_story(seed):
    rng = random.Random(seed)
    orders = [README, README[::-1]] + [rng.sample(README, len(README)) for _ in range(100)]
    assert len({repr(check(order)) for order in orders}) == 1


def test_a_rerun_and_a_sweep_trial_keep_the_run_they_derive_from():
    """Run 2 reruns run 1 and run 3 is a trial of a sweep based on run 1: later runs of model_01 and
    model_02 change neither, and the rules never choose them again."""
    order = [("model_02", ()), ("model_02", ()), ("model_02", ("model.lr=0.5",)), ("model_01", ()), ("model_02", ())]
    fixed = {2: {"rerun_of": 1, "parent_id": 1}, 3: {"sweep_id": 1, "parent_id": 1}}
    runs = record_in_order(order, fixed)
    assert [r["parent_id"] for r in runs] == [4, 1, 1, None, 4]


def test_a_run_of_no_experiment_is_never_chosen_again():
    runs = [{"id": 1, "experiment": None, "overrides": [], "config": {}, "parent_id": None}]
    assert derive_parents(runs, BUILDS) == {}


def test_experiment_files_that_build_on_each_other_do_not_loop():
    builds = {"a": "b", "b": "a"}
    runs = [
        {"id": 1, "experiment": "a", "overrides": ["+experiment=a"], "config": {}},
        {"id": 2, "experiment": "b", "overrides": ["+experiment=b"], "config": {}},
    ]
    assert family("a", builds) == {"a", "b"}
    assert derive_parents(runs, builds) == {1: 2, 2: 1}  # what files in a loop say; the reader cuts it


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_relink_through_a_real_registry_matches_the_rules(tmp_path):
    """mlws.lifecycle.relink with a SQLite registry and experiment files: the same parents."""
    from mlws.lifecycle import relink as relink_recorded
    from mlws.registry import open_registry
    from mlws.spec import RunSpec
    from mlws.workspace import Workspace

    ws = Workspace(tmp_path)
    (tmp_path / "experiments").mkdir()
    for name, parent in BUILDS.items():
        defaults = f"defaults:\n  - {parent}\n  - _self_\n" if parent else ""
        (tmp_path / "experiments" / f"{name}.yaml").write_text(f"# @package _global_\n{defaults}")
    for n, order in enumerate([README, README[::-1], random.Random(7).sample(README, len(README))]):
        registry = open_registry(f"sqlite:///{tmp_path / f'r{n}.db'}")
        for experiment, extra in order:
            spec = RunSpec(
                experiment=experiment,
                overrides=(f"+experiment={experiment}", *extra),
                config=config(experiment, extra),
                workspace=str(tmp_path),
                command="c",
                created_at="2026-01-01",
            )
            run_id = registry.create(spec, "", "local", run_dir_for=str, builds_on=BUILDS[experiment])
            relink_recorded(ws, registry, run_id, experiment)
        stored = {r["id"]: r["parent_id"] for r in registry.list()}
        assert stored == {r["id"]: r["parent_id"] for r in record_in_order(order)}
        last = registry.list()[-1]["id"]
        chain = registry.ancestors(last)
        assert [registry.get(i)["experiment"] for i in chain][0] == "model_01" and chain[-1] == last


@pytest.mark.parametrize("seed", range(4))
def test_relinking_each_new_run_equals_choosing_every_parent_at_the_end(seed):
    """Random histories: runs of six experiments (some skipped), overrides at random distances,
    reruns and sweep trials; after each run only what it may change is chosen again, and the end
    state is what choosing every parent over the whole history gives."""
    rng = random.Random(seed)
    for _ in range(150):
        runs: list[dict] = []
        names = rng.sample([f"model_{k:02d}" for k in range(1, 7)], rng.randint(2, 6))
        for run_id in range(1, rng.randint(2, 25)):
            experiment = rng.choice(names)
            extra = tuple(f"model.x{rng.randint(1, 3)}={rng.randint(1, 3)}" for _ in range(rng.choice((0, 0, 1, 2))))
            earlier = [r for r in runs if r["experiment"] == experiment]
            fixed = {}
            if earlier and rng.random() < 0.2:
                base = rng.choice(earlier)
                extra = tuple(base["overrides"][1:])
                fixed = {"rerun_of": base["id"]} if rng.random() < 0.5 else {"sweep_id": 1}
                fixed["parent_id"] = base["id"]
            run = {
                "id": run_id,
                "experiment": experiment,
                "overrides": [f"+experiment={experiment}", *extra],
                "config": config(experiment, extra),
                "rerun_of": None,
                "sweep_id": None,
                "parent_id": None,
                **fixed,
            }
            runs.append(run)
            relevant_runs = [r for r in runs if r["experiment"] in relevant(experiment, BUILDS)]
            for run_id_, parent in relink(run, relevant_runs, BUILDS).items():
                next(r for r in runs if r["id"] == run_id_)["parent_id"] = parent
        full = derive_parents(runs, BUILDS)
        assert {i: r["parent_id"] for i, r in ((r["id"], r) for r in runs) if i in full} == full, runs
