"""`pip install mlws` with no extras, for real: the wheel of this repository installed from the
package index into a clean virtual environment (only torch pinned, through the repository's
constraints.txt, to the CPU build on this machine's disk). It trains a user's model with `mlws init`,
lineage and report work, and each feature whose extra is missing stops with one line naming it,
before anything is recorded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from ..support.helpers import REPO, clean_env

pytestmark = [pytest.mark.slow, pytest.mark.serve]

MODEL = """
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class LineData(pl.LightningDataModule):
    def __init__(self, batch_size: int = 32):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        x = torch.randn(256, 1, generator=g)
        y = 3 * x - 1
        self.train_set, self.val_set = TensorDataset(x[:200], y[:200]), TensorDataset(x[200:], y[200:])
        self.batch_size = batch_size

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=64)


class Regressor(pl.LightningModule):
    def __init__(self, lr: float = 0.1):
        super().__init__()
        self.lr = lr
        self.layer = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.layer(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/mse", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)
"""


@pytest.fixture(scope="module")
def core_install(tmp_path_factory):
    """(python, packages, MB): a venv with `pip install mlws` and nothing else."""
    tmp = tmp_path_factory.mktemp("core")
    source = tmp / "source"  # setuptools builds in the tree: build from a copy
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "runs", ".mlws", "build", "dist", "site", "*.egg-info", "__pycache__", "wandb"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp / "dist").glob("mlws-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt"), str(wheel)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"], check=True, capture_output=True, text=True
    ).stdout
    size_mb = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20
    packages = len(json.loads(listed))
    print(f"\npip install mlws (no extras): {packages} packages, {size_mb:.0f} MB")
    return python, packages, size_mb


def run(python, *args, cwd, env):
    return subprocess.run(
        [str(python), "-m", "mlws.cli.main", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_no_extras_trains_and_names_the_extra_of_each_missing_feature(core_install, tmp_path):
    python, packages, _ = core_install
    for heavy in ("ray", "sky", "jupyterlab", "optuna", "psycopg"):
        found = subprocess.run(
            [str(python), "-c", f"import importlib.util as u; print(u.find_spec({heavy!r}))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert found == "None", f"{heavy} came with the core install"
    project = tmp_path / "project"
    (project / "acme").mkdir(parents=True)
    (project / "acme" / "__init__.py").write_text("")
    (project / "acme" / "line.py").write_text(textwrap.dedent(MODEL))
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    env = {**clean_env(tmp_path), "PYTHONPATH": str(project)}

    assert run(python, "--version", cwd=project, env=env).stdout.startswith("mlws ")
    out = run(
        python,
        "init",
        "--model",
        "acme.line.Regressor",
        "--data",
        "acme.line.LineData",
        "--metric",
        "val/mse",
        "--mode",
        "min",
        cwd=project,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    out = run(python, "train", "+experiment=acme_01", "trainer.max_epochs=2", cwd=project, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    for args in (["runs"], ["lineage", "1"], ["show", "1"], ["report", "-o", str(tmp_path / "r.html")], ["check"]):
        done = run(python, *args, cwd=project, env=env)
        assert done.returncode == 0, (args, done.stderr[-2000:])

    refused = {
        ("train", "+experiment=acme_01", "compute=ray"): "compute=ray needs mlws[ray]: pip install 'mlws[ray]'",
        ("train", "+experiment=acme_01", "compute=sky"): "compute=sky needs mlws[sky]: pip install 'mlws[sky]'",
        ("serve", "1"): "mlws serve needs mlws[serve]: pip install 'mlws[serve]'",
        ("notebook",): "mlws notebook needs mlws[notebook]: pip install 'mlws[notebook]'",
        (
            "train",
            "-m",
            "+experiment=acme_01",
            "model.lr=interval(0.01,0.1)",
            "hydra/sweeper=optuna",
        ): "needs mlws[sweeps]: pip install 'mlws[sweeps]'",
    }
    for args, message in refused.items():
        done = run(python, *args, cwd=project, env=env)
        assert done.returncode == 2, (args, done.stdout[-1000:], done.stderr[-2000:])
        assert message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr[-2000:])
        assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
    runs = json.loads(run(python, "runs", "--json", cwd=project, env=env).stdout)
    assert [r["id"] for r in runs] == [1]  # nothing recorded by a refused command
