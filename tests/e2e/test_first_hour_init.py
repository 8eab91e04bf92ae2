"""`mlws init --model acme.model.Net` in a new repository: the model's and the data module's
__init__ arguments are config keys from the first command (read from the source, nothing imported)."""

import subprocess

from ..support.helpers import mlws, mlws_json

NET = """
from lightning import LightningModule

class Net(LightningModule):
    def __init__(self, lr: float = 0.01, hidden: int = 64, dropout=0.1):
        super().__init__()
"""
DATA = """
from lightning import LightningDataModule

class Data(LightningDataModule):
    def __init__(self, root: str, batch_size: int = 32):
        super().__init__()
"""


def test_init_then_override_the_models_arguments(tmp_path, env):
    repo = tmp_path / "my-project"
    (repo / "acme").mkdir(parents=True)
    (repo / "acme" / "__init__.py").write_text("")
    (repo / "acme" / "model.py").write_text(NET)
    (repo / "acme" / "data.py").write_text(DATA)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    out = mlws(
        "init",
        "--model",
        "acme.model.Net",
        "--data",
        "acme.data.Data",
        "--metric",
        "val/acc",
        "--mode",
        "max",
        cwd=repo,
        env=env,
    )
    assert out.returncode == 0 and "warning" not in out.stderr, out.stderr
    assert "lr: 0.01\nhidden: 64\ndropout: 0.1\n" in (repo / "conf/model/acme.yaml").read_text()
    data = repo / "conf/data/acme.yaml"
    assert "root: ???\nbatch_size: 32\n" in data.read_text()
    assert "fill in conf/data/acme.yaml: root" in out.stdout
    data.write_text(data.read_text().replace("root: ???", "root: /data/digits"))  # what the user does next
    plan = mlws_json("plan", "+experiment=acme_01", "model.lr=1e-3", cwd=repo, env=env)
    config = plan["spec"]["config"] if "spec" in plan else plan["config"]
    assert config["model"] == {"_target_": "acme.model.Net", "lr": 0.001, "hidden": 64, "dropout": 0.1}
    assert config["data"]["root"] == "/data/digits"
    bad = mlws("plan", "+experiment=acme_01", "model.lrr=1e-3", "data.root=/x", cwd=repo, env=env)
    assert bad.returncode == 2 and "model.lr" in bad.stderr and "Traceback" not in bad.stderr


def test_init_says_when_a_class_is_not_written_yet(tmp_path, env):
    repo = tmp_path / "new-project"
    (repo / "acme").mkdir(parents=True)
    (repo / "acme" / "__init__.py").write_text("")
    (repo / "acme" / "model.py").write_text("")
    out = mlws("init", "--model", "acme.model.Net", "--data", "acme.data.Data", cwd=repo, env=env)
    assert out.returncode == 0, out.stderr
    assert "warning: --model acme.model.Net: no class Net in" in out.stderr
    assert "warning: --data acme.data.Data: no module acme.data here" in out.stderr
    assert (repo / "conf/model/acme.yaml").read_text().strip().endswith("_target_: acme.model.Net")
