"""Sweepers chosen by config, through the real CLI, Hydra's multirun with mlws's sweeper and launcher
plugins, and the registry. Trials use the record-only test backend (tests/support/helpers.py: the real launch
path, no model trained; its metric is derived from the trial's config)."""

import importlib.util
import json

from ..support.helpers import mlws, mlws_json, use_record_only_backend

BASE = ["+experiment=model_12"]

FIRST_AND_LAST = '''
from mlws.sweeps.sweeper import Job, Sweeper


class FirstAndLast(Sweeper):
    """Two trials: every swept list at its first value, then at its last; the values told go to a file."""
    name = "first-and-last"

    def __init__(self, args, *, params=None, told_to="told.json"):
        super().__init__(args, params=params)
        lists = {k: v.split(",") for k, v in args.swept.items()}
        self._jobs = [[*args.fixed, *(f"{k}={v[i]}" for k, v in lists.items())] for i in (0, -1)]
        self._asked, self._told, self._told_to = False, [], told_to

    def jobs_to_check(self):
        return self._jobs

    @property
    def n_trials(self):
        return len(self._jobs)

    def ask(self, slots):
        self._asked = True
        return [Job(tuple(job)) for job in self._jobs]

    def tell(self, job, value):
        import json
        self._told.append(value)
        with open(self._told_to, "w") as f:
            json.dump(self._told, f)

    def done(self):
        return self._asked
'''


def test_optuna_sweeps_need_no_other_sweeper_plugin():
    """`pip install mlws[sweeps]` is enough: hydra-optuna-sweeper (which pins optuna<3) is not used,
    and installed beside mlws it would clash with mlws's own `hydra/sweeper=optuna`."""
    assert importlib.util.find_spec("hydra_plugins.mlws_sweeper.mlws_sweeper") is not None
    assert importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is None, (
        "uninstall hydra-optuna-sweeper: mlws brings its own Optuna sweeper"
    )


def test_random_search_runs_n_trials_and_the_same_command_again_runs_nothing(ws, env):
    on = use_record_only_backend(ws)
    args = [
        *BASE,
        *on,
        "hydra/sweeper=mlws_random",
        "hydra.sweeper.n_trials=4",
        "hydra.sweeper.seed=5",
        "model.lr=tag(log, interval(1e-4,1e-2))",
        "data.batch_size=32,64",
        "--parallel",
        "2",
    ]
    out = mlws("train", "-m", *args, cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    (sweep,) = mlws_json("sweeps", cwd=ws, env=env)
    assert sweep["sweeper"] == "random" and sweep["status"] == "finished" and sweep["counts"] == {"succeeded": 4}
    assert sweep["settings"]["sampler"] == "RandomSampler" and sweep["settings"]["state"] == {"seed": 5}
    runs = mlws_json("runs", cwd=ws, env=env)
    lrs = [float(next(o for o in r["overrides"] if o.startswith("model.lr=")).split("=")[1]) for r in runs]
    assert len(set(lrs)) == 4 and all(1e-4 <= lr <= 1e-2 for lr in lrs)
    assert all(sum(o in ("data.batch_size=32", "data.batch_size=64") for o in r["overrides"]) == 1 for r in runs)

    again = mlws("train", "-m", *args, cwd=ws, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already succeeded") == 4 and "sweep 1 (resumed)" in again.stdout
    assert len(mlws_json("runs", cwd=ws, env=env)) == 4


def test_a_sweeper_is_one_class_and_one_yaml_without_touching_mlws(ws, env):
    """A workspace adds its own sweeper: a Sweeper subclass in its code and a YAML in conf/hydra/sweeper.
    The command runs in a subfolder: the workspace's root is importable as it is for a backend."""
    on = use_record_only_backend(ws)
    (ws / "my_sweepers.py").write_text(FIRST_AND_LAST)
    (ws / "conf" / "hydra" / "sweeper").mkdir(parents=True)
    (ws / "conf" / "hydra" / "sweeper" / "first_last.yaml").write_text(
        "_target_: hydra_plugins.mlws_sweeper.mlws_sweeper.MlwsSweeper\n"
        "adapter: my_sweepers.FirstAndLast\n"
        f"told_to: {ws / 'told.json'}\n"
    )
    (ws / "notes").mkdir()
    out = mlws(
        "train",
        "-m",
        *BASE,
        *on,
        "hydra/sweeper=first_last",
        "model.lr=1e-3,2e-3,3e-3",
        "data.batch_size=16,32,64",
        "--json",
        cwd=ws / "notes",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["sweep"]["sweeper"] == "first-and-last" and view["sweep"]["settings"]["n_trials"] == 2
    assert {(t["params"]["model.lr"], t["params"]["data.batch_size"]) for t in view["trials"]} == {
        (0.001, 16),
        (0.003, 64),
    }
    told = json.loads((ws / "told.json").read_text())
    assert sorted(told) == sorted(t["value"] for t in view["trials"]) and None not in told
    typo = mlws(
        "train",
        "-m",
        *BASE,
        *on,
        "hydra/sweeper=first_last",
        "model.lr=1e-3,2e-3",
        "+hydra.sweeper.told=x.json",
        cwd=ws,
        env=env,
    )
    assert typo.returncode == 2
    assert (
        "hydra.sweeper.told is not a setting of the first-and-last sweeper (its settings: params, told_to)"
        in typo.stderr
    )


def test_optunas_grid_sampler_runs_each_point_once(ws, env):
    on = use_record_only_backend(ws)
    out = mlws(
        "train",
        "-m",
        *BASE,
        *on,
        "hydra/sweeper=optuna",
        "hydra/sweeper/sampler=grid",
        "hydra.sweeper.n_trials=10",
        "model.lr=1e-3,3e-4",
        "data.batch_size=range(32,97,32)",
        "--parallel",
        "3",
        "--json",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["sweep"]["settings"]["n_trials"] == 6 and view["sweep"]["settings"]["sampler"] == "GridSampler"
    points = sorted((t["params"]["model.lr"], t["params"]["data.batch_size"]) for t in view["trials"])
    assert points == sorted((lr, b) for lr in (0.001, 0.0003) for b in (32, 64, 96))


def test_bad_sweeper_input_gets_one_clear_message_and_records_nothing(ws, env):
    sampled = ["model.lr=interval(1e-4,1e-2)"]
    cases = [
        ([*sampled, "hydra/sweeper=optuna", "hydra.sweeper.n_trails=5"], "unknown key 'hydra.sweeper.n_trails'"),
        (
            [*sampled, "hydra/sweeper=optuna", "+hydra.sweeper.n_trails=5"],
            "hydra.sweeper.n_trails is not a setting of the optuna sweeper",
        ),
        (
            ["model.lr=interval(1e-2,1e-4)", "hydra/sweeper=optuna"],
            "'model.lr=interval(1e-2,1e-4)' is not a valid search range: its low end 0.01 must be below its high end",
        ),
        (
            ["model.lr=tag(log, interval(0,1e-2))", "hydra/sweeper=mlws_random"],
            "a log interval needs a low end above 0",
        ),
        ([*sampled, "hydra/sweeper=optuna", "hydra.sweeper.n_trials=0"], "hydra.sweeper.n_trials must be at least 1"),
        ([*sampled, "hydra/sweeper=optuna", "hydra.sweeper.sampler._target_=os.system"], "name one of optuna.samplers"),
        ([*sampled, "hydra/sweeper=optuna", "hydra/sweeper/sampler=grid"], "grid sampler takes lists"),
        ([*sampled, "hydra/sweeper=optuna", "hydra.sweeper.sampler.n_startup=3"], "unknown key"),
        ([*sampled, "hydra/sweeper=mlws_random", "hydra.sweeper.seed=abc"], "hydra.sweeper.seed must be an integer"),
        (["model.lr=1e-3,3e-4", "hydra.sweeper._target_=hydra_plugins.nosuch.Sweeper"], "not a sweeper mlws can drive"),
    ]
    for extra, message in cases:
        out = mlws("train", "-m", *BASE, *extra, "logger=none", cwd=ws, env=env)
        assert out.returncode == 2, (extra, out.stdout, out.stderr)
        assert message in out.stderr, (extra, out.stderr)
        errors = [line for line in out.stderr.splitlines() if "error:" in line]
        assert "Traceback" not in out.stderr and len(errors) == 1, out.stderr
    assert mlws_json("sweeps", cwd=ws, env=env) == [] and mlws_json("runs", cwd=ws, env=env) == []
