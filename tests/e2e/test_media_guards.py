"""Media views reach the run dir and the W&B offline run; guards stop runs and say why."""

import json
from pathlib import Path

from ..support.helpers import mlws, mlws_json, wandb_history

AUTOENCODER = '''
import torch
from mlws.examples.digits import DigitsClassifier


class TinyAutoencoder(DigitsClassifier):
    """A generative stand-in: reconstructs 8x8 digits; generate() is what the grid shows."""
    def __init__(self, **kwargs):
        super().__init__(net=torch.nn.Identity(), **kwargs)
        self.coder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.ReLU(),
                                         torch.nn.Linear(16, 64))
        self.head = torch.nn.Linear(64, 10)

    def generate(self, x):
        return self.coder(x).reshape(x.shape)

    def forward(self, x):
        return self.head(self.generate(x).flatten(1))
'''


def test_media_views_are_written_and_logged_to_wandb(ws, env):
    out = mlws(
        "train",
        "+experiment=model_12",
        "trainer.max_epochs=2",
        "callbacks=[default,confusion_matrix,worst_samples,class_metrics]",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    run_dir = ws / "runs" / "1"
    for view in ("confusion_matrix", "worst_samples"):
        pngs = sorted((run_dir / "media" / view).glob("epoch*.png"))
        assert [p.name for p in pngs] == ["epoch000.png", "epoch001.png"]
        assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = wandb_history(run_dir)
    key = "media/confusion_matrix"
    images = [row for row in history if f"{key}/_type" in row]
    assert len(images) == 2 and images[0][f"{key}/_type"] == "images/separated"
    assert images[0][f"{key}/width"] == images[0][f"{key}/height"] == 400
    wandb_run = Path(mlws_json("show", "1", cwd=ws, env=env)["artifacts"]["wandb_dir"])
    stored = wandb_run / "files" / images[0][f"{key}/filenames"][0]
    assert stored.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the class metrics are the model's own: recomputed here from last.ckpt on the same validation split
    evals = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = {k: v for k, v in evals[-1].items() if k.startswith("class/")}
    assert sorted(logged) == [f"class/{c}/{m}" for c in (3, 5, 8) for m in ("precision", "recall")]
    import torch
    from hydra.utils import instantiate

    from mlws.serving.loading import load_model

    record = mlws_json("show", "1", cwd=ws, env=env)
    model = load_model(record["config"], Path(record["artifacts"]["checkpoints"]["last"]))
    data = instantiate(record["config"]["data"])
    data.setup("fit")
    batches = list(data.val_dataloader())
    with torch.no_grad():
        predicted = torch.cat([model(x).argmax(dim=1) for x, _ in batches])
    targets = torch.cat([y for _, y in batches])
    for c in (3, 5, 8):
        tp = int(((predicted == c) & (targets == c)).sum())
        assert (
            abs(logged[f"class/{c}/precision"] - tp / max(int((predicted == c).sum()), 1)) < 1e-6
        )  # logged as float32
        assert abs(logged[f"class/{c}/recall"] - tp / int((targets == c).sum())) < 1e-6
    assert len({round(v, 6) for v in logged.values()}) > 1  # not one constant written everywhere


def test_real_vs_generated_grid_for_a_generative_module(ws, env):
    (ws / "gen.py").write_text(AUTOENCODER)
    (ws / "conf" / "model" / "autoencoder.yaml").write_text("_target_: gen.TinyAutoencoder\nlr: 0.01\n")
    out = mlws(
        "train",
        "model=autoencoder",
        "data.normalize=true",
        "trainer.max_epochs=1",
        "logger=none",
        "callbacks=[default,generated_grid]",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    from PIL import Image, ImageStat

    grid = Image.open(ws / "runs/1/media/real_vs_generated/epoch000.png").convert("L")
    top, bottom = (
        grid.crop((0, 0, grid.width, grid.height // 2)),
        grid.crop((0, grid.height // 2, grid.width, grid.height)),
    )
    # a real grid: both halves (real digits, generated ones) draw something, not a blank canvas
    assert grid.width >= 100 and all(ImageStat.Stat(half).stddev[0] > 5 for half in (top, bottom))


def test_early_stopping_guard_records_why(ws, env):
    out = mlws(
        "train",
        "+experiment=model_04",
        "trainer.max_epochs=50",
        "logger=none",
        "callbacks=[default,early_stopping]",
        "callbacks.early_stopping.patience=2",
        "callbacks.early_stopping.min_delta=1.0",
        cwd=ws,
        env=env,
    )  # nothing improves by 1.0
    assert out.returncode == 0, out.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "stopped"
    assert run["stop_reason"] == "no improvement in val/acc for 2 evaluations (early stopping)"
    assert len((ws / "runs/1/metrics.jsonl").read_text().splitlines()) == 3


def test_time_limit_guard_records_why(ws, env):
    out = mlws(
        "train",
        "+experiment=model_04",
        "trainer.max_epochs=100000",
        "logger=none",
        "callbacks=[default,time_limit]",
        "callbacks.time_limit.duration=00:00:00:03",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "stopped" and run["stop_reason"] == "time limit of 3 s reached"
    assert Path(run["artifacts"]["checkpoints"]["last"]).is_file()


def test_docs_example_view_in_an_experiment_file(ws, env):
    """The docs' worked example (docs/extending.md): one class + one YAML file, switched on from an
    experiment."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "docs" / "extending.md").read_text()
    code = re.search(r"```python\n# acme/views.py\n(.*?)```", readme, re.S).group(1)
    yaml_text = re.search(r"```yaml\n# conf/callbacks/confidence.yaml\n(.*?)```", readme, re.S).group(1)
    (ws / "acme").mkdir()
    (ws / "acme" / "__init__.py").write_text("")
    (ws / "acme" / "views.py").write_text(code)
    (ws / "conf" / "callbacks" / "confidence.yaml").write_text(yaml_text)
    (ws / "experiments" / "model_13.yaml").write_text(
        "# @package _global_\ndefaults:\n  - model_12\n  - override /callbacks: [default, confidence]\n"
        "  - _self_\ndescription: watch confidence\ntrainer: {max_epochs: 2}\n"
    )
    out = mlws("train", "+experiment=model_13", "logger=none", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (ws / "runs/1/media/confidence/epoch001.png").is_file()
    last = json.loads((ws / "runs/1/metrics.jsonl").read_text().splitlines()[-1])
    assert 0.1 < last["confidence/mean"] <= 1.0
