"""The lineage through the CLI in the order the issue's newcomer made the runs: model_12 first, then
model_03, then 01, 02, 04 ... 12. The story must still read model_01 → model_02 → ... → model_12.

The workspace's default compute block records runs without training them (the record-only backend
of tests/support/helpers.py), so every run is a plain `mlws train +experiment=NAME` with no extra overrides,
as in the README, and the 15 runs take seconds each."""

import pytest

from ..support.helpers import clean_env, make_workspace, mlws, mlws_json, use_record_only_backend
from ..support.postgres_server import postgres_server, postgres_url  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.postgres]

ORDER = ["model_12", "model_03", "model_01", "model_02"] + [f"model_{k:02d}" for k in range(4, 13)]


@pytest.fixture(scope="module")
def out_of_order(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("order")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    use_record_only_backend(ws)
    config = ws / "conf" / "config.yaml"
    text = (
        config.read_text()
        .replace("- compute: local", "- compute: record_only")
        .replace("- logger: wandb", "- logger: none")
    )
    assert "record_only" in text and "logger: none" in text
    config.write_text(text)
    for name in ORDER:
        out = mlws("train", f"+experiment={name}", cwd=ws, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
    # run 14: model_12 with a change; run 15: a rerun of run 2 (model_03), derived from it
    assert mlws("train", "+experiment=model_12", "model.lr=3e-4", cwd=ws, env=env).returncode == 0
    rerun = mlws("rerun", "2", cwd=ws, env=env)
    assert rerun.returncode == 0 and "rerun of │ run 2" in rerun.stdout, rerun.stdout
    return ws, env


def experiments(chain: list[dict]) -> list[str]:
    return [step["experiment"] for step in chain]


def test_lineage_reads_from_the_baseline_whatever_the_order(out_of_order):
    ws, env = out_of_order
    chain = mlws_json("lineage", "13", cwd=ws, env=env)
    assert [s["id"] for s in chain] == [3, 4, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert experiments(chain) == [f"model_{k:02d}" for k in range(1, 13)]
    # run 1, the first model_12, was re-linked when model_11 first ran
    assert [s["id"] for s in mlws_json("lineage", "1", cwd=ws, env=env)][-2:] == [12, 1]
    assert mlws_json("show", "1", cwd=ws, env=env)["parent_id"] == 12
    assert mlws_json("show", "2", cwd=ws, env=env)["parent_id"] == 4
    # each step's changes are against the step before it: model_03's against model_02
    assert chain[2]["changes"]["changed"]["model.optimizer._target_"] == ["torch.optim.SGD", "torch.optim.Adam"]
    text = mlws("lineage", "13", cwd=ws, env=env).stdout
    assert text.index("run 3 model_01") < text.index("run 4 model_02") < text.index("run 2 model_03")


def test_overrides_and_reruns_in_the_story(out_of_order):
    ws, env = out_of_order
    lr = mlws_json("lineage", "14", cwd=ws, env=env)
    assert [s["id"] for s in lr][-2:] == [13, 14] and lr[-1]["summary"] == ["model.lr: 0.003 → 0.0003"]
    rerun = mlws_json("show", "15", cwd=ws, env=env)
    assert rerun["rerun_of"] == 2 and rerun["parent_id"] == 2


def test_every_run_and_the_best_read_forwards(out_of_order):
    ws, env = out_of_order
    order = lambda name: int(name.split("_")[1])
    for run in mlws_json("runs", cwd=ws, env=env):
        names = experiments(mlws_json("lineage", str(run["id"]), cwd=ws, env=env))
        assert names[0] == "model_01" and [order(n) for n in names] == sorted(order(n) for n in names), names
    best = mlws_json("lineage", "--best", "val/acc", cwd=ws, env=env)
    assert best[0]["experiment"] == "model_01"
    tree = {n["id"]: n["parent"] for n in mlws_json("lineage", "--all", cwd=ws, env=env)}
    assert [i for i, parent in tree.items() if parent is None] == [3]  # one root: the baseline
    shown = mlws("lineage", "--all", cwd=ws, env=env).stdout
    assert shown.index("run 3 model_01") < shown.index("run 2 model_03") < shown.index("run 13 model_12")


def test_relink_on_postgresql_matches_the_rules(postgres_url, tmp_path):
    """The registry's lineage queries (experiment links, runs of a family, parents set, a chain whose
    parent is newer than its child) on a real PostgreSQL server, in the README's order and reversed."""
    import random

    from mlws.lifecycle import relink
    from mlws.registry import open_registry
    from mlws.spec import RunSpec
    from mlws.workspace import Workspace

    from ..support.lineage_story import BUILDS, README, config, record_in_order

    (tmp_path / "experiments").mkdir()
    for name, parent in BUILDS.items():
        defaults = f"defaults:\n  - {parent}\n  - _self_\n" if parent else ""
        (tmp_path / "experiments" / f"{name}.yaml").write_text(f"# @package _global_\n{defaults}")
    registry = open_registry(postgres_url)
    order = random.Random(3).sample(README, len(README))
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
        relink(Workspace(tmp_path), registry, run_id, experiment)
    assert {r["id"]: r["parent_id"] for r in registry.list()} == {
        r["id"]: r["parent_id"] for r in record_in_order(order)
    }
    for run in registry.list():
        chain = registry.ancestors(run["id"])
        assert registry.get(chain[0])["experiment"] == "model_01" and chain[-1] == run["id"]


def test_real_training_runs_out_of_order(tmp_path):
    """Three plain runs that really train (the workspace's own trainer block keeps them to a few
    batches an epoch), made child first: model_03, then model_01, then model_02."""
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    (ws / "conf" / "trainer").mkdir()
    (ws / "conf" / "trainer" / "default.yaml").write_text(
        "_target_: pytorch_lightning.Trainer\nmax_epochs: 1\naccelerator: cpu\ndevices: 1\ndeterministic: true\n"
        "log_every_n_steps: 1\nlimit_train_batches: 2\nlimit_val_batches: 1\nenable_progress_bar: false\n"
    )
    config = ws / "conf" / "config.yaml"
    config.write_text(config.read_text().replace("- logger: wandb", "- logger: none"))
    for name in ("model_03", "model_01", "model_02"):
        out = mlws("train", f"+experiment={name}", cwd=ws, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
    chain = mlws_json("lineage", "1", cwd=ws, env=env)
    assert [(s["id"], s["experiment"]) for s in chain] == [(2, "model_01"), (3, "model_02"), (1, "model_03")]
    assert all(isinstance(s["metrics"].get("val/acc"), float) for s in chain)  # trained, with metrics
