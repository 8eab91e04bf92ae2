"""`mlws ablate RUN` through the real CLI on the lineage step model_11 → model_12 (three changed keys:
the net's channels, the epochs, and the scheduler's T_max that follows the epochs by interpolation,
so two changes: the channels, and the epochs with their T_max). The runs are
recorded through mlws's real launch path with a test backend that trains nothing (named so): only
the channels change its metric (+0.1), plus noise drawn from the seed. The real-training ablation of
the synthetic example is tests/e2e/test_ablate_synthetic.py."""

from __future__ import annotations

import json

from ..support.helpers import mlws, mlws_json
from ..support.seeded import use_seeded_backend


def _plain_runs_on_the_test_backend(ws) -> None:
    """The workspace's defaults choose the seeded backend and no logger, so runs are plain."""
    use_seeded_backend(ws)
    config = ws / "conf" / "config.yaml"
    config.write_text(
        config.read_text().replace("- logger: wandb", "- logger: none").replace("- compute: local", "- compute: seeded")
    )


def test_ablate_finds_the_change_that_bought_the_gain(ws, env):
    _plain_runs_on_the_test_backend(ws)
    parent = mlws_json("train", "+experiment=model_11", cwd=ws, env=env)
    run = mlws_json("train", "+experiment=model_12", cwd=ws, env=env)
    assert mlws_json("show", str(run["id"]), cwd=ws, env=env)["parent_id"] == parent["id"]

    out = mlws("ablate", str(run["id"]), "--seeds", "3", "--parallel", "2", "--json", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["parent"] == parent["id"] and result["seeds"] == [42, 43, 44]
    assert [c["change"] for c in result["changes"]] == [
        "model.scheduler.T_max+trainer.max_epochs",
        "model.net.channels",
    ]
    assert result["changes"][0]["linked"] == ["model.scheduler.T_max interpolates trainer.max_epochs"]
    assert len(result["configurations"]) == 6 and result["trained"] == 10  # 4 distinct configs × 3 seeds - 2
    assert result["reused"] == 8  # the 2 recorded, and with two changes each add-one is the other's leave-one-out
    channels = result["effects"]["model.net.channels"]
    assert channels["matters"] is True and 0.8 <= channels["share"]["estimate"] <= 1.2
    assert channels["share"]["low"] > 0.5
    epochs = result["effects"]["model.scheduler.T_max+trainer.max_epochs"]
    assert epochs["matters"] is False and abs(epochs["share"]["estimate"]) < 0.2
    assert result["gain"]["distinguishable"] is True
    assert result["interaction"]["low"] <= 0 <= result["interaction"]["high"]
    # each configuration's runs have the config meant: the leave-one-out of the epochs takes T_max with them
    without = next(
        c for c in result["configurations"] if c["name"] == "run without model.scheduler.T_max+trainer.max_epochs"
    )
    config = mlws_json("show", str(without["runs"][0]), cwd=ws, env=env)["config"]
    assert config["trainer"]["max_epochs"] == 15 and config["model"]["scheduler"]["T_max"] == 15
    assert config["model"]["net"]["channels"] == [32, 64]
    # the trainings are one recorded sweep: listed, its trials the runs trained, resumed by the same command
    ablation = next(s for s in mlws_json("sweeps", cwd=ws, env=env) if s["id"] == result["sweep"])
    assert ablation["sweeper"] == "ablate" and ablation["status"] == "finished", ablation
    trials = json.loads(mlws("sweep", str(result["sweep"]), "--json", cwd=ws, env=env).stdout)["trials"]
    assert len(trials) == 10 and all(t["status"] == "succeeded" for t in trials)
    refused = mlws("sweep", str(result["sweep"]), "--resume", cwd=ws, env=env)
    assert refused.returncode == 2 and "is an ablation: the same command resumes it" in refused.stderr
    # the lineage step is as it was, and the same ablation again trains nothing
    assert mlws_json("show", str(run["id"]), cwd=ws, env=env)["parent_id"] == parent["id"]
    n = len(mlws_json("runs", cwd=ws, env=env))
    text = mlws("ablate", str(run["id"]), "--seeds", "3", cwd=ws, env=env)
    assert text.returncode == 0 and "0 to train" in text.stderr and len(mlws_json("runs", cwd=ws, env=env)) == n
    assert "model.net.channels" in text.stdout and "matters" in text.stdout and "within seed noise" in text.stdout
    assert "interaction (gain minus the sum of single effects):" in text.stdout
    md = mlws("ablate", str(run["id"]), "--seeds", "3", "--format", "markdown", cwd=ws, env=env).stdout
    assert md.startswith(f"### mlws ablate: run {run['id']} (parent: run {parent['id']})")
    assert "| `model.net.channels` | [16, 32] → [32, 64] |" in md

    report = mlws("report", "-o", str(ws / "report.html"), cwd=ws, env=env)
    assert report.returncode == 0, report.stderr
    page = (ws / "report.html").read_text()
    assert f"<h3>run {run['id']} against its parent, run {parent['id']}</h3>" in page
    assert "<tr><td><code>model.net.channels</code></td>" in page and "within seed noise" in page

    grouped = mlws_json(
        "ablate", str(run["id"]), "--seeds", "3", "--group", "trainer.max_epochs,model.scheduler", cwd=ws, env=env
    )
    assert [c["change"] for c in grouped["changes"]] == ["trainer.max_epochs+model.scheduler", "model.net.channels"]
    assert grouped["effects"]["model.net.channels"]["matters"] is True


def test_bad_ablate_input_is_one_line_and_records_nothing(ws, env):
    _plain_runs_on_the_test_backend(ws)
    parent = mlws_json("train", "+experiment=model_11", cwd=ws, env=env)
    run = mlws_json("train", "+experiment=model_12", cwd=ws, env=env)
    cases = [
        (["ablate", "99"], "no run 99"),
        (["ablate", str(parent["id"])], "has no parent run"),
        (["ablate", str(run["id"]), "--seeds", "0"], "--seeds: must be at least 1"),
        (
            ["ablate", str(run["id"]), "--group", "model.lr"],
            "--group model.lr: model.lr is not a key this step changes",
        ),
        (
            ["ablate", str(run["id"]), "--group", "trainer.max_epochs", "--group", "trainer"],
            "trainer.max_epochs is already in --group trainer.max_epochs",
        ),
        (["ablate", str(run["id"]), "--parallel", "0"], "--parallel: must be at least 1"),
    ]
    for args, words in cases:
        out = mlws(*args, cwd=ws, env=env)
        assert out.returncode == 2, (args, out.stderr)
        assert words in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
    assert len(mlws_json("runs", cwd=ws, env=env)) == 2
    assert not (ws / ".mlws" / "ablations").exists()


def test_a_price_is_not_a_change_to_ablate():
    """cost.local_hourly set on the run only prices it: ablating it trained the same model twice."""
    import pytest

    from mlws.errors import MlwsError
    from mlws.ops.ablate import step_changes

    parent = {"seed": 1, "model": {"lr": 0.1}, "cost": {"local_hourly": 0.0}}
    run = {"seed": 2, "model": {"lr": 0.01}, "cost": {"local_hourly": 0.4}}
    assert [c["change"] for c in step_changes(parent, run)] == ["model.lr"]
    with pytest.raises(MlwsError, match="nothing to ablate"):
        step_changes(parent, {**parent, "cost": {"local_hourly": 0.4}})
