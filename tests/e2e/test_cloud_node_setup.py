"""A cloud node's setup in a team's own repository (issue 24, point 1): the node installs the project's
*dependencies* (read on the laptop from [project].dependencies; a requirements.txt as it is), never a
build of the project (`pip install -e .` fails on a flat layout or a pyproject with only tool settings).

The slow tests run the task mlws sends (recorded API: no cloud) on the simulated node (tests/support/sim_node.py):
SkyPilot's ~/sky-user-env activated, its setup for real with pip, the project's own dependency served by
a package index on loopback."""

import json
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from ..support.helpers import mlws
from ..support.sim_node import Node, PackageIndex
from ..support.skypilot_cli import calls, sky_mlws

pytestmark = [pytest.mark.sky]

RUFF_ONLY = "[tool.ruff]\nline-length = 100\n"
MINIMAL_PROJECT = (
    '[project]\nname = "acme"\nversion = "0.1.0"\ndependencies = ["acme-dep==1.0", "mlws"]\n\n'
    "[tool.ruff]\nline-length = 100\n"
)


def team_repo(root: Path, pyproject: str, env: dict) -> Path:
    """A team's repository: its package (acme/), a pyproject.toml of its own, then `mlws init`."""
    (root / "acme").mkdir(parents=True)
    (root / "acme" / "__init__.py").write_text("")
    (root / "acme" / "model.py").write_text("class Model:\n    pass\n")
    (root / "acme" / "data.py").write_text("class DataModule:\n    pass\n")
    (root / "pyproject.toml").write_text(pyproject)
    done = mlws("init", "--name", "acme", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def launched_task(ws: Path, env: dict, tmp: Path, *args) -> dict:
    record = tmp / "launch.json"
    out = sky_mlws(
        ws,
        env,
        tmp,
        "train",
        "+experiment=acme_01",
        "compute=sky",
        "compute.torch_index=pypi",
        "logger=none",
        *args,
        "--detach",
        record=record,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return list(yaml.safe_load_all(calls(record, "/jobs/launch")[-1]["json"]["task"]))[-1]


@pytest.mark.parametrize("pyproject", [RUFF_ONLY, MINIMAL_PROJECT], ids=["tool-settings-only", "minimal-project"])
def test_the_setup_installs_dependencies_never_the_project(pyproject, env, tmp_path):
    repo = team_repo(tmp_path / "repo", pyproject, env)
    task = launched_task(repo, env, tmp_path)
    assert "pip install -e" not in task["setup"] and "setup.py" not in task["setup"]
    if "dependencies" in pyproject:  # read here; mlws itself is the laptop's wheel, not the index's mlws
        # resolved in one call with the training core and requirements.txt, under the constraints
        together = [line for line in task["setup"].splitlines() if " acme-dep==1.0 " in line]
        assert len(together) == 1 and "lightning>=" in together[0] and " mlws" not in together[0], together
        assert together[0].startswith("mlws_pip install ")
        assert '-r "$MLWS_REQUIREMENTS"} -c "$MLWS_CONSTRAINTS"' in together[0], together


def test_a_pyproject_that_is_not_toml_is_one_clear_message(env, tmp_path):
    repo = team_repo(tmp_path / "repo", RUFF_ONLY, env)
    (repo / "pyproject.toml").write_text('[project]\nname = "acme"\ndependencies = ["ok", "not a requirement!"]\n')
    out = sky_mlws(
        repo, env, tmp_path, "train", "+experiment=acme_01", "compute=sky", "--detach", record=tmp_path / "api.json"
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "[project].dependencies: 'not a requirement!' is not a requirement" in out.stderr
    assert calls(tmp_path / "api.json", "/jobs/launch") == []
    assert json.loads(mlws("runs", "--json", cwd=repo, env=env).stdout) == []  # nothing recorded


@pytest.fixture(scope="module")
def user_env(tmp_path_factory):
    """One ~/sky-user-env for this module's nodes: the first setup fills it (cold, as on a new VM), the
    second installs only what it adds."""
    return tmp_path_factory.mktemp("sky-user-env") / "env"


@pytest.fixture
def index(tmp_path):
    served = PackageIndex(tmp_path / "index")
    served.add_wheel("acme-dep", "1.0", "acme_dep", "VALUE = 'from the loopback index'\n")
    yield served
    served.close()


@pytest.mark.slow
@pytest.mark.parametrize("pyproject", [RUFF_ONLY, MINIMAL_PROJECT], ids=["tool-settings-only", "minimal-project"])
def test_a_team_repository_sets_up_on_a_simulated_node(pyproject, user_env, index, env, tmp_path):
    repo = team_repo(tmp_path / "repo", pyproject, env)
    (repo / "requirements.txt").write_text(
        "# the team's extra needs\nacme-dep\n" if "dependencies" not in pyproject else ""
    )
    task = launched_task(repo, env, tmp_path)
    node = Node(tmp_path / "node", tmp_path / "buckets", python_env=user_env, index_url=index.url)
    node.provision(task)
    assert (node.workdir / "acme" / "model.py").is_file() and (node.workdir / "pyproject.toml").is_file()
    setup = node.setup(task)
    assert setup.returncode == 0, (setup.stdout + setup.stderr)[-4000:]
    assert "Multiple top-level packages" not in setup.stdout + setup.stderr
    assert "mlws: installing with uv" in setup.stdout  # SkyPilot's uv, which the node has, as a real one has
    probe = (
        "import importlib.metadata as m, acme_dep, mlws\n"
        "try:\n    m.version('acme')\n    built = True\nexcept m.PackageNotFoundError:\n    built = False\n"
        "print(acme_dep.VALUE, '|', built, '|', mlws.__file__)"
    )
    where = subprocess.run(
        ["bash", "-c", f"source ~/sky-user-env/bin/activate && cd ~/sky_workdir && python -c {shlex.quote(probe)}"],
        capture_output=True,
        text=True,
        env=node.env(task),
        timeout=120,
    )
    value, built, mlws_file = (
        [part.strip() for part in where.stdout.split("|")] if where.returncode == 0 else (where.stderr, "", "")
    )
    assert value == "from the loopback index", where.stderr[-2000:]  # the project's dependency, installed
    assert built == "False"  # the project itself was never built or installed
    assert mlws_file.startswith(str(user_env))  # the laptop's mlws (its wheel), in the node's user env


def test_each_task_installs_only_what_it_needs_of_mlws(tmp_path):
    """Issue 24, point 8: the node's mlws goes in with --no-deps, then the task's share of its
    dependencies (from the wheel's own metadata): no SkyPilot, Optuna or JupyterLab for training, Ray
    Serve only to serve, JupyterLab only for a notebook."""
    from mlws.compute.sky.compile import compile_notebook_task, compile_serve_task
    from mlws.compute.sky.node_setup import node_install
    from mlws.compute.sky.wheel import build

    wheel = build(cache=tmp_path / "wheels")
    setups = {
        "train": node_install({}, {"torch": "2.13.0"}, wheel, tmp_path)[1],
        "serve": compile_serve_task({}, str(tmp_path), 1, "/a.json", "/w.safetensors", 8000, wheel=wheel)["setup"],
        "notebook": compile_notebook_task({}, str(tmp_path), "nb", 8888, 30.0, False, "s", wheel=wheel)["setup"],
    }
    for task, setup in setups.items():
        assert f"pip install /mlws/dist/{wheel.name} --no-deps" in setup, task
        assert "skypilot" not in setup and "optuna" not in setup and "lightning>=" in setup, task
    assert "ray" not in setups["train"] and "jupyterlab" not in setups["train"]
    assert "ray[" in setups["serve"] and "jupyterlab" not in setups["serve"]
    assert "jupyterlab" in setups["notebook"] and "ray" not in setups["notebook"]


def test_the_node_needs_no_skypilot_to_pick_its_backend(monkeypatch):
    """mlws[sky] is checked where runs are launched; the node's worker (MLWS_REMOTE=1) resolves the same
    backend without SkyPilot, which its setup does not install. (SkyPilot's absence is played by the
    extras check's own lookup answering "missing".)"""
    from mlws import extras
    from mlws.compute import backend_class
    from mlws.errors import MlwsError

    monkeypatch.setattr(extras, "missing", lambda extra: ["sky"] if extra == "sky" else [])
    compute = {"_target_": "mlws.compute.sky.SkyBackend"}
    monkeypatch.delenv("MLWS_REMOTE", raising=False)
    with pytest.raises(MlwsError, match=r"needs mlws\[sky\]"):
        backend_class(compute)
    monkeypatch.setenv("MLWS_REMOTE", "1")
    assert backend_class(compute).name == "sky"
