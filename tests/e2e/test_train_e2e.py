"""A real, short training through the CLI: registry record, run dir, checkpoints, W&B offline files."""

import json
from pathlib import Path

from ..support.helpers import mlws, mlws_json, wandb_history


def test_train_records_everything(ws, env):
    (ws / "experiments" / "model_12.yaml").write_text(
        (ws / "experiments" / "model_12.yaml").read_text() + "# a local edit makes the tree dirty\n"
    )
    out = mlws(
        "train", "+experiment=model_12", "trainer.max_epochs=2", "monitor.hardware_interval_s=0.2", cwd=ws, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "run 1 · model_12 · succeeded" in out.stdout

    runs = mlws_json("runs", cwd=ws, env=env)
    assert len(runs) == 1
    run = runs[0]
    assert run["id"] == 1 and run["experiment"] == "model_12" and run["status"] == "succeeded"
    assert run["overrides"] == ["+experiment=model_12", "trainer.max_epochs=2", "monitor.hardware_interval_s=0.2"]
    assert 0.5 < run["metrics"]["val/acc"] <= 1.0
    assert run["created_at"].startswith("20") and "T" in run["created_at"]
    run_dir = Path(run["run_dir"])
    assert run_dir == ws / "runs" / "1"

    shown = mlws_json("show", "1", cwd=ws, env=env)
    assert shown["config"]["trainer"]["max_epochs"] == 2
    assert shown["config"]["model"]["scheduler"]["T_max"] == 2  # interpolation resolved with the override
    assert len(shown["git"]["commit"]) == 40 and shown["git"]["dirty"] is True
    assert "a local edit makes the tree dirty" in shown["git"]["patch"]
    assert shown["versions"]["torch"].startswith("2.")
    assert shown["command"].startswith("mlws train +experiment=model_12")
    ckpts = shown["artifacts"]["checkpoints"]
    assert Path(ckpts["best"]).is_file() and Path(ckpts["last"]).is_file()
    assert Path(ckpts["best"]).parent == run_dir / "checkpoints"

    # the frozen spec the worker ran
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["run_id"] == 1 and spec["config"] == shown["config"]

    # per-validation metrics and hardware samples in the run directory
    lines = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [l["epoch"] for l in lines] == [0, 1]
    hw = [json.loads(l) for l in (run_dir / "hardware.jsonl").read_text().splitlines()]
    assert hw and all(h["memory_mb"] > 10 and 0 <= h["cpu_percent"] <= 100 for h in hw)

    # W&B ran offline (no credentials) and its run file holds the logged metrics
    assert shown["artifacts"]["wandb_mode"] == "offline"
    history = wandb_history(run_dir)
    val_acc = [row["val/acc"] for row in history if "val/acc" in row]
    assert len(val_acc) == 2 and abs(val_acc[-1] - run["metrics"]["val/acc"]) < 1e-6
    assert any("hw/cpu_percent" in row for row in history)


def test_python_api_mirrors_the_cli(ws, env, monkeypatch):
    import mlws

    for key in list(__import__("os").environ):
        if key.startswith("WANDB_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith(("WANDB_", "NETRC")):
            monkeypatch.setenv(key, value)
    record = mlws.train(["+experiment=model_01", "trainer.max_epochs=1", "logger=none"], workspace=ws)
    assert record["status"] == "succeeded" and record["id"] == 1
    assert [r["id"] for r in mlws.runs(workspace=ws)] == [1]
    assert mlws.show(1, workspace=ws)["config"]["trainer"]["max_epochs"] == 1
