"""`mlws train ... --seeds K` and `mlws rerun N --seeds K` through the real CLI: K runs that differ only
in `seed`, recorded as one replicate group (a sweep over `seed`), summarized as mean ± sd with a 95%
interval. One test trains for real (tiny Lightning runs); the others record runs with the test
backend that only records (named so), and bad input records nothing."""

from __future__ import annotations

import json

from ..support.helpers import mlws, mlws_json, use_record_only_backend

TINY = [
    "+experiment=model_12",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=2",
    "logger=none",
]


def test_seeds_trains_a_replicate_group_for_real(ws, env):
    out = mlws_json("train", *TINY, "--seeds", "2", cwd=ws, env=env)
    group = out["group"]
    assert group["n"] == 2 and group["metric"] == "val/acc" and len(group["runs"]) == 2
    assert out["sweep"]["space"] == {"seed": "42,43"} and group["group"] == out["sweep"]["id"]
    a, b = (mlws_json("show", str(r), cwd=ws, env=env) for r in group["runs"])
    assert (a["config"]["seed"], b["config"]["seed"]) == (42, 43)

    def but_seed(config):
        return {k: v for k, v in config.items() if k != "seed"}

    assert but_seed(a["config"]) == but_seed(b["config"])
    assert a["status"] == b["status"] == "succeeded" and a["sweep_id"] == b["sweep_id"] == group["group"]
    mean = sum(group["values"]) / 2
    assert abs(group["mean"] - mean) < 1e-12 and group["low"] < mean < group["high"]
    # the same command again runs nothing new: the group is complete
    again = mlws("train", *TINY, "--seeds", "2", cwd=ws, env=env)
    assert again.returncode == 0, again.stderr
    assert f"replicate group {group['group']} · runs " in again.stdout and "val/acc (max is better): " in again.stdout
    assert len(mlws_json("runs", cwd=ws, env=env)) == 2
    # the demo page's card gives the run's key metric with its seeds' spread
    from mlws.ops.serving import _serve_setup
    from mlws.serving.gradio_page import card_html
    from mlws.workspace import Workspace

    _, args = _serve_setup(group["runs"][0], None, None, Workspace(ws))
    assert args["card"]["replicates"] == group["text"] and group["text"] in card_html(args["card"])


def test_rerun_seeds_repeats_a_run_and_refuses_when_its_files_changed(ws, env):
    rec = use_record_only_backend(ws)
    run = mlws_json("train", "+experiment=model_12", *rec, "seed=7", cwd=ws, env=env)
    out = mlws_json("rerun", str(run["id"]), "--seeds", "3", cwd=ws, env=env)
    assert out["sweep"]["space"] == {"seed": "7,8,9"} and out["group"]["n"] == 3
    assert out["sweep"]["command"] == f"mlws rerun {run['id']} --seeds 3"
    text = mlws("rerun", str(run["id"]), "--seeds", "3", cwd=ws, env=env)
    assert text.returncode == 0 and "± " in text.stdout and "n=3" in text.stdout
    exp = ws / "experiments" / "model_12.yaml"
    exp.write_text(exp.read_text().replace("channels: [32, 64]", "channels: [16, 64]"))
    before = len(mlws_json("runs", cwd=ws, env=env))
    bad = mlws("rerun", str(run["id"]), "--seeds", "2", cwd=ws, env=env)
    assert bad.returncode == 2 and "model.net.channels" in bad.stderr and "not be comparable" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr and len(mlws_json("runs", cwd=ws, env=env)) == before


def test_bad_seeds_input_is_one_line_and_records_nothing(ws, env):
    rec = use_record_only_backend(ws)
    cases = [
        (["train", "+experiment=model_12", *rec, "--seeds", "0"], "--seeds: must be at least 1"),
        (["train", "+experiment=model_12", *rec, "--seeds", "x"], "expected a whole number"),
        (["rerun", "99", "--seeds", "2"], "no run 99"),
        (["train", "+experiment=model_12", *rec, "model.lr=1e-3,3e-4", "--seeds", "2"], "model.lr has several"),
        (["train", "-m", "+experiment=model_12", *rec, "model.lr=1e-3,3e-4", "--seeds", "2"], "in a sweep (-m)"),
        (["train", "+experiment=model_12", *rec, "seed=abc", "--seeds", "2"], "seed=abc"),
        (["rerun", "1", "--parallel", "2"], "add --seeds K"),
    ]
    for args, words in cases:
        out = mlws(*args, cwd=ws, env=env)
        assert out.returncode == 2, (args, out.stderr)
        assert words in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
    assert mlws_json("runs", cwd=ws, env=env) == [] and mlws_json("sweeps", cwd=ws, env=env) == []
    assert json.loads(mlws("runs", "--json", cwd=ws, env=env).stdout) == []


def test_seeds_detached_says_where_the_summary_will_be(ws, env):
    """With --detach the group has no runs yet: no empty `runs  · -` summary line, but where to look."""
    from ..support.helpers import wait_for

    rec = use_record_only_backend(ws)
    out = mlws("train", "+experiment=model_12", *rec, "--seeds", "2", "--detach", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    sweep = mlws_json("sweeps", cwd=ws, env=env)[0]["id"]
    assert f"replicate group {sweep}: its runs train in the background; mlws sweep {sweep}" in out.stdout, out.stdout
    assert "runs  ·" not in out.stdout and "fewer than 2 succeeded" not in out.stdout, out.stdout
    wait_for(
        lambda: mlws_json("sweep", str(sweep), cwd=ws, env=env)["sweep"]["status"] != "running",
        timeout=120,
        what="the detached group's driver",
    )
