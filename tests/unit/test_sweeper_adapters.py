"""The sweeper contract and its adapters without a workspace: the adapter a composed `hydra.sweeper`
node names, Hydra's grammar as Optuna distributions, the grid's expansion, Optuna's ask/tell on a study
in a private SQLite file (seeded, resumed), random search replayed from its seed, and the loop mlws's
Hydra sweeper plugin runs."""

import pytest

from mlws.errors import MlwsError
from mlws.sweeps import distributions, space
from mlws.sweeps.grid import GridSweeper
from mlws.sweeps.optuna_sweeper import OptunaSweeper
from mlws.sweeps.random_search import RandomSearch
from mlws.sweeps.sweeper import Job, SweepContext, Sweeper, run_trials, sweeper_for

BASIC = {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper", "max_batch_size": None, "params": None}
PLUGIN = "hydra_plugins.mlws_sweeper.mlws_sweeper.MlwsSweeper"


def optuna_node(**settings):
    return {
        "_target_": PLUGIN,
        "_recursive_": False,
        "adapter": "mlws.sweeps.optuna_sweeper.OptunaSweeper",
        "sampler": {"_target_": "optuna.samplers.TPESampler", "seed": None},
        "direction": None,
        "storage": None,
        "study_name": None,
        "n_trials": 20,
        "n_jobs": None,
        "max_failure_rate": None,
        "params": None,
    } | settings


def random_node(**settings):
    return {
        "_target_": PLUGIN,
        "adapter": "mlws.sweeps.random_search.RandomSearch",
        "n_trials": 20,
        "seed": None,
        "params": None,
    } | settings


def context(tmp_path, sweep_id=1, parallel=2, state=None):
    return SweepContext(
        sweep_id=sweep_id,
        registry_url=f"sqlite:///{tmp_path / 'registry.db'}",
        mode="max",
        parallel=parallel,
        state=state or {},
    )


def test_the_config_chooses_the_adapter():
    args = space.parse(["x=1", "model.lr=1e-3,3e-4"])
    assert type(sweeper_for(BASIC, args)) is GridSweeper
    assert type(sweeper_for(optuna_node(), args)) is OptunaSweeper
    assert type(sweeper_for(random_node(), args)) is RandomSearch
    with pytest.raises(MlwsError, match="not a sweeper mlws can drive"):
        sweeper_for({"_target_": "hydra_plugins.other.Other"}, args)
    with pytest.raises(MlwsError, match="cannot be imported"):
        sweeper_for({"_target_": PLUGIN, "adapter": "mlws.sweeps.nosuch.Sweeper"}, args)
    with pytest.raises(MlwsError, match="is not a mlws.sweeps.sweeper.Sweeper"):
        sweeper_for({"_target_": PLUGIN, "adapter": "mlws.sweeps.grid.Job"}, args)


def test_a_setting_the_sweeper_does_not_take_is_one_message_naming_those_it_does():
    args = space.parse(["model.lr=interval(1e-4,1e-2)"])
    with pytest.raises(MlwsError) as e:
        sweeper_for(optuna_node(n_trails=5), args)
    assert str(e.value) == (
        "hydra.sweeper.n_trails is not a setting of the optuna sweeper (its settings: params, "
        "sampler, direction, storage, study_name, n_trials, n_jobs, max_failure_rate)"
    )


def test_a_sweeper_whose_extra_is_missing_says_which(monkeypatch):
    import mlws.extras

    monkeypatch.setattr(mlws.extras, "missing", lambda extra: ["optuna"])
    with pytest.raises(MlwsError, match=r"the optuna sweeper needs mlws\[sweeps\]"):
        sweeper_for(optuna_node(), space.parse(["model.lr=interval(1e-4,1e-2)"]))
    assert type(sweeper_for(BASIC, space.parse(["model.lr=1,2"]))) is GridSweeper  # the grid needs no extra


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("interval(1e-4,1e-2)", "FloatDistribution(high=0.01, log=False, low=0.0001, step=None)"),
        ("tag(log, interval(1e-4,1e-2))", "FloatDistribution(high=0.01, log=True, low=0.0001, step=None)"),
        ("int(interval(1,5))", "IntDistribution(high=5, log=False, low=1, step=1)"),
        ("range(16,65,16)", "IntDistribution(high=64, log=False, low=16, step=16)"),  # Hydra's range: 65 excluded
        ("choice(adam,sgd)", "CategoricalDistribution(choices=('adam', 'sgd'))"),
        ("32,64", "CategoricalDistribution(choices=(32, 64))"),
        ("choice('a b',c)", "CategoricalDistribution(choices=('a\\\\ b', 'c'))"),  # as an override writes it
    ],
)
def test_hydras_grammar_as_optuna_distributions(expression, expected):
    assert repr(distributions.search_space([f"k={expression}"])["k"]) == expected


@pytest.mark.parametrize(
    "expression, message",
    [
        ("interval(1e-2,1e-4)", "its low end 0.01 must be below its high end 0.0001"),
        ("tag(log, interval(0,1))", "a log interval needs a low end above 0"),
        ("glob(*)", "sampled sweeps take interval(), range() and choice(), not glob()"),
    ],
)
def test_a_bad_range_is_one_clear_error(expression, message):
    with pytest.raises(
        MlwsError, match=r"'k=.*' is not a valid search range: " + message.replace("(", r"\(").replace(")", r"\)")
    ):
        distributions.search_space([f"k={expression}"])


def test_the_grid_is_hydras_expansion_asked_at_once_or_in_hydras_batches():
    args = space.parse(["+experiment=m", "model.lr=1e-3,3e-4", "data.batch_size=32,64"])
    grid = sweeper_for(BASIC, args)
    assert grid.n_trials == 4 and grid.space == {"model.lr": "1e-3,3e-4", "data.batch_size": "32,64"}
    assert grid.jobs_to_check()[0] == ["+experiment=m", "model.lr=0.001", "data.batch_size=32"]
    jobs = grid.ask(slots=2)
    assert len(jobs) == 4 and grid.done() and all(j.number is None for j in jobs)
    batched = sweeper_for(BASIC | {"max_batch_size": 3}, args)
    assert [len(batched.ask(2)), len(batched.ask(2))] == [3, 1] and batched.done()
    with pytest.raises(MlwsError, match="needs a sampling sweeper"):
        sweeper_for(BASIC, space.parse(["model.lr=interval(0,1)"]))


def _run(sweeper, value=lambda overrides: 0.5, slots=2):
    """run_trials with a launcher that answers `value(overrides)` for each job; the jobs launched."""
    launched = []

    def launch(jobs):
        launched.extend(jobs)
        return [value(job) for job in jobs]

    run_trials(sweeper, launch, slots)
    return launched


def _lr(job) -> float:
    return float(next(o for o in job if o.startswith("model.lr=")).split("=")[1])


def test_optuna_asks_and_is_told_in_batches_seeded_and_in_the_registry_database(tmp_path):
    import optuna

    args = space.parse(["+experiment=m", "model.lr=tag(log, interval(1e-4,1e-2))", "data.batch_size=32,64"])
    runs = []
    for n in (1, 2):
        sweeper = sweeper_for(
            optuna_node(n_trials=5, sampler={"_target_": "optuna.samplers.TPESampler", "seed": 3}), args
        )
        sweeper.check_objective("max")
        sweeper.begin(context(tmp_path, sweep_id=n))
        runs.append(_run(sweeper, value=_lr))
        assert sweeper.done() and sweeper.remaining() == 0
    assert runs[0] == runs[1] and len(runs[0]) == 5  # the same seed, the same trials
    assert all(job[0] == "+experiment=m" and len(job) == 3 for job in runs[0])
    study = optuna.load_study(study_name="mlws-sweep-1", storage=f"sqlite:///{tmp_path / 'registry.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 5 and study.direction.name == "MAXIMIZE"
    assert [t.value for t in study.trials] == [_lr(job) for job in runs[0]]


def test_optuna_numbers_each_job_and_finds_it_again_in_any_order(tmp_path):
    sweeper = sweeper_for(optuna_node(n_trials=2), space.parse(["model.lr=interval(0.1,0.2)", "x=1"]))
    sweeper.check_objective("max")
    sweeper.begin(context(tmp_path))
    jobs = sweeper.asked(sweeper.ask(slots=2))
    assert [j.number for j in jobs] == [0, 1]
    assert (
        sweeper.number_of(list(reversed(jobs[1].overrides))) == 1 and sweeper.number_of(list(jobs[1].overrides)) is None
    )


def test_an_optuna_resume_settles_what_was_left_open_and_asks_only_for_what_is_missing(tmp_path):
    args = space.parse(["model.lr=interval(0.1,0.2)"])
    node = optuna_node(n_trials=4, sampler={"_target_": "optuna.samplers.RandomSampler", "seed": 7})
    first = sweeper_for(node, args)
    first.check_objective("max")
    first.begin(context(tmp_path))
    done = first.ask(slots=2)[0]
    first.tell(done, 0.9)
    left = first.ask(slots=1)[0]  # its driver dies here: the trial stays RUNNING in the study

    again = sweeper_for(node, args)
    again.check_objective("max")
    again.begin(context(tmp_path))
    assert again.open_jobs() == [1, 2]  # one asked in the first batch and never told, and `left`
    again.tell(Job((), left.number), 0.8)
    again.tell(Job((), 1), None)  # no run answered for it: failed
    assert again.remaining() == 2  # 4 trials, 2 complete
    resumed = _run(again)
    assert len(resumed) == 2 and again.open_jobs() == [] and again.done()
    # the restarted seeded sampler does not draw the first driver's trials again
    assert not {_lr(done.overrides), _lr(left.overrides)} & {_lr(job) for job in resumed}


def test_a_space_in_the_sweepers_params_comes_first_and_the_command_wins(tmp_path):
    args = space.parse(["x=1", "data.batch_size=64"])
    node = optuna_node(n_trials=3, params={"model.lr": "interval(0.1,0.2)", "data.batch_size": "choice(16,32)"})
    sweeper = sweeper_for(node, args)
    assert sweeper.space == {"model.lr": "interval(0.1,0.2)", "data.batch_size": "choice(16,32)"}
    sweeper.check_objective("max")
    sweeper.begin(context(tmp_path))
    jobs = _run(sweeper)
    assert len(jobs) == 3 and all(job[1:] == ["data.batch_size=64", "x=1"] for job in jobs)
    assert all(0.1 <= _lr(job) <= 0.2 for job in jobs)
    grid = sweeper_for(BASIC | {"params": {"model.lr": "1,2"}}, args)
    assert grid.jobs_to_check() == [
        ["model.lr=1", "x=1", "data.batch_size=64"],
        ["model.lr=2", "x=1", "data.batch_size=64"],
    ]


def test_the_optuna_direction_follows_monitor_mode():
    args = space.parse(["model.lr=interval(0.1,0.2)"])
    sweeper_for(optuna_node(direction="maximize"), args).check_objective("max")
    sweeper_for(optuna_node(direction=None), args).check_objective("min")
    with pytest.raises(MlwsError, match="direction=minimize contradicts monitor.mode=max"):
        sweeper_for(optuna_node(direction="minimize"), args).check_objective("max")
    with pytest.raises(MlwsError, match="one objective"):
        sweeper_for(optuna_node(direction=["maximize", "minimize"]), args).check_objective("max")


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"n_trials": 0}, "n_trials must be at least 1"),
        ({"n_jobs": 0}, "n_jobs must be at least 1"),
        ({"max_failure_rate": 2.0}, "max_failure_rate must be between 0 and 1"),
        ({"max_failure_rate": "half"}, "max_failure_rate must be between 0 and 1"),
        ({"sampler": {"_target_": "os.system"}}, "name one of optuna.samplers"),
        ({"sampler": {"_target_": "optuna.samplers.NoSuchSampler"}}, "is not in optuna.samplers"),
    ],
)
def test_bad_optuna_settings_are_one_clear_error(settings, message):
    with pytest.raises(MlwsError, match=message):
        sweeper_for(optuna_node(**settings), space.parse(["model.lr=interval(0.1,0.2)"]))


def test_optunas_grid_sampler_walks_the_lists_once(tmp_path):
    node = optuna_node(n_trials=10, sampler={"_target_": "optuna.samplers.GridSampler", "seed": 0})
    sweeper = sweeper_for(node, space.parse(["model.lr=1e-3,3e-4", "data.batch_size=range(32,97,32)"]))
    assert sweeper.n_trials == 6 and sweeper.record() == {"sampler": "GridSampler"}
    sweeper.check_objective("max")
    sweeper.begin(context(tmp_path))
    jobs = _run(sweeper)
    assert sorted(jobs) == sorted(
        [f"model.lr={lr}", f"data.batch_size={b}"] for lr in (0.001, 0.0003) for b in (32, 64, 96)
    )
    with pytest.raises(MlwsError, match="grid sampler takes lists"):
        sweeper_for(node, space.parse(["model.lr=interval(0.1,0.2)"]))


def test_random_search_is_a_function_of_its_seed_and_records_one_it_drew(tmp_path):
    args = space.parse(["+experiment=m", "model.lr=tag(log, interval(1e-4,1e-2))", "opt=choice(adam,sgd)"])

    def points(seed, state=None):
        sweeper = sweeper_for(random_node(n_trials=6, seed=seed), args)
        sweeper.begin(context(tmp_path, state=state))
        return _run(sweeper), sweeper.state()

    (a, state_a), (b, _), (c, _) = points(0), points(0), points(1)
    assert a == b != c and len(a) == 6 and state_a == {"seed": 0}
    assert all(1e-4 <= _lr(job) <= 1e-2 and job[2] in ("opt=adam", "opt=sgd") for job in a)
    drawn, state = points(None)
    assert isinstance(state["seed"], int) and points(None, state=state)[0] == drawn  # a resume draws the same


def test_the_loop_tells_each_job_its_value_until_the_sweeper_is_done():
    class Halving(Sweeper):
        """A sweeper that asks one job at a time and stops after three."""

        name = "halving"

        def __init__(self, args, *, params=None):
            super().__init__(args, params=params)
            self.told = []

        def jobs_to_check(self):
            return [list(self.args.representative)]

        @property
        def n_trials(self):
            return 3

        def ask(self, slots):
            return [Job((f"x={len(self.told)}",), number=len(self.told))]

        def tell(self, job, value):
            self.told.append((job.number, value))

        def done(self):
            return len(self.told) >= 3

    sweeper = Halving(space.parse(["x=1,2"]))
    assert _run(sweeper, value=lambda job: float(job[0][2:]) / 2) == [["x=0"], ["x=1"], ["x=2"]]
    assert sweeper.told == [(0, 0.0), (1, 0.5), (2, 1.0)]


def test_nothing_outside_the_adapters_names_a_sweeper():
    """Sweepers are chosen by config: ops/ and the sweep's driving code never compare against a
    sweeper's (or sampler's) name, nor look for one inside a string."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "mlws"
    files = [
        *package.glob("ops/*.py"),
        *(
            package / "sweeps" / f
            for f in ("start.py", "drive.py", "driver.py", "records.py", "views.py", "multirun.py", "sweeper.py")
        ),
    ]
    names = ("basic", "grid", "optuna", "random", "mlws_random", "GridSampler", "TPESampler", "RandomSampler")
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                for const in ast.walk(node):
                    if (
                        isinstance(const, ast.Constant)
                        and isinstance(const.value, str)
                        and any(n.lower() in const.value.lower() for n in names)
                    ):
                        offenders.append(f"{path.relative_to(package)}:{node.lineno} {const.value!r}")
    assert len(files) > 10 and not offenders, offenders
