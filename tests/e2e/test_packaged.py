"""mlws in a team's own repository: a wheel of this repository installed in a clean virtual
environment (mlws's dependencies reached through a .pth line to this project's .venv, so nothing is
downloaded), `mlws init` in an empty git repository holding a small user package, then train, runs,
diff and serve there, with mlws's building blocks coming from the package (pkg://mlws.conf)."""

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ..support.helpers import REPO, free_port
from ..support.serving_client import post
from ..support.user_projects import USER_CODE

pytestmark = [pytest.mark.slow, pytest.mark.serve]


@pytest.fixture(scope="module")
def wheel_python(tmp_path_factory):
    """A fresh venv with only the mlws wheel installed; the dependencies resolve from this .venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    # built from a copy: setuptools builds in the source tree and would leave build/ in the checkout
    source = tmp / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "runs", ".mlws", "build", "dist", "*.egg-info", "__pycache__", "wandb", "lightning_logs"
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
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    venv_site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    deps = [p for p in site.getsitepackages() if p.endswith("site-packages")]
    (venv_site / "_mlws_deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--ignore-installed",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [str(python), "-c", "import mlws, hydra_plugins.mlws_launcher as l; print(mlws.__file__, l.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp,
    ).stdout
    assert str(REPO) not in where and str(venv_site) in where  # the wheel's mlws, not this checkout's
    return python


def run(python, *args, cwd, env, timeout=300):
    return subprocess.run(
        [str(python), "-m", "mlws.cli.main", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_init_train_diff_serve_in_a_users_own_repository(wheel_python, tmp_path, env):
    project = tmp_path / "project"
    (project / "acme").mkdir(parents=True)
    (project / "acme" / "__init__.py").write_text("")
    (project / "acme" / "line.py").write_text(USER_CODE)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    env = {**env, "PYTHONPATH": str(project)}

    out = run(
        wheel_python,
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
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*.yaml")) == [
        "conf/config.yaml",
        "conf/data/acme.yaml",
        "conf/model/acme.yaml",
        "experiments/acme_01.yaml",
    ]
    assert "runs/" in (project / ".gitignore").read_text() and "mlws train +experiment=acme_01" in out.stdout
    again = run(wheel_python, "init", cwd=project, env=env)
    assert again.returncode == 2 and "not overwriting conf/config.yaml" in again.stderr
    assert (project / "conf" / "model" / "acme.yaml").read_text().count("acme.line.Regressor") == 1
    typo = run(
        wheel_python,
        "init",
        "--name",
        "other",
        "--model",
        "acme.nope.Net",
        "--data",
        "acme.line.LineData",
        "--force",
        cwd=tmp_path / "project",
        env=env,
    )
    assert typo.returncode == 0 and "warning: --model acme.nope.Net: no module acme.nope" in typo.stderr
    for leftover in ("conf/model/other.yaml", "conf/data/other.yaml", "experiments/other_01.yaml"):
        (project / leftover).unlink()
    run(
        wheel_python,
        "init",
        "--model",
        "acme.line.Regressor",
        "--data",
        "acme.line.LineData",
        "--metric",
        "val/mse",
        "--mode",
        "min",
        "--force",
        cwd=project,
        env=env,
    )

    # mlws init wrote the model's arguments with their defaults; the user adds serving hooks, and
    # mlws's trainer block is replaced by a workspace file of the same name
    assert "lr: 0.1" in (project / "conf" / "model" / "acme.yaml").read_text()
    (project / "experiments" / "acme_01.yaml").write_text(
        textwrap.dedent("""\
        # @package _global_
        description: "baseline"
        serve:
          output: {_target_: mlws.serving.outputs.Regression}
        """)
    )  # the packaged serve.input leaves shape and range to the data module
    (project / "conf" / "trainer").mkdir()
    (project / "conf" / "trainer" / "default.yaml").write_text(
        "_target_: pytorch_lightning.Trainer\nmax_epochs: 6\nenable_progress_bar: false\naccelerator: cpu\n"
    )
    bad = run(wheel_python, "train", "+experiment=acme_01", "trainer.max_epoch=2", cwd=project, env=env)
    assert bad.returncode == 2 and "did you mean 'trainer.max_epochs'" in bad.stderr
    assert run(wheel_python, "check", cwd=project, env=env).returncode == 0

    for extra in ([], ["model.lr=0.05"]):
        out = run(wheel_python, "train", "+experiment=acme_01", "logger=none", *extra, cwd=project, env=env)
        assert out.returncode == 0, out.stderr[-3000:]
    runs = json.loads(run(wheel_python, "runs", "--json", cwd=project, env=env).stdout)
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    assert runs[0]["monitor"]["metric"] == "val/mse" and runs[0]["metrics"]["val/mse"] < 0.1
    shown = json.loads(run(wheel_python, "show", "1", "--json", cwd=project, env=env).stdout)
    assert shown["config"]["trainer"]["max_epochs"] == 6  # the workspace's trainer block
    assert shown["config"]["compute"]["_target_"].startswith("mlws.compute")  # a packaged block
    diff = json.loads(run(wheel_python, "diff", "1", "2", "--json", cwd=project, env=env).stdout)
    assert diff["config"]["changed"]["model.lr"] == [0.1, 0.05], diff["config"]

    port = free_port()
    served = run(wheel_python, "serve", "1", "--port", str(port), "--detach", cwd=project, env=env, timeout=400)
    assert served.returncode == 0, served.stderr[-3000:]
    try:
        status, answer = post(port, json.dumps({"inputs": [[2.0]]}).encode())
        assert status == 200 and abs(answer["predictions"][0] - 5.0) < 0.5  # y = 3x - 1
        status, refused = post(port, json.dumps({"inputs": [[9.0]]}).encode())  # outside the data's input_range
        assert status == 422 and "within [-5.0, 5.0]" in refused["error"], refused
    finally:
        run(wheel_python, "serve", "stop", "1", cwd=project, env=env, timeout=120)
