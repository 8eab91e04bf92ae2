"""mlws's own backends pass the suite every backend passes (mlws.testing.BackendTestSuite, as
Hydra's LauncherTestSuite), driven through the CLI as a user would: local (this machine), ray (a
real Ray head started by this module) and sky (SkyPilot's own validation on a fake catalog, its API
server answered by the recorder in tests/support/skypilot_fakes.py: the wiring, not a cloud).
"""

from __future__ import annotations

import json

import pytest

from mlws.testing import BackendTestSuite

from ..support.helpers import clean_env, make_workspace, mlws, stop_what_the_workspace_started
from ..support.ray_cluster import isolated_ray_env, ray_head  # noqa: F401  (module fixture)
from ..support.skypilot_cli import calls, no_real_skypilot_server, sky_mlws  # noqa: F401  (autouse fixture)


class TestLocalBackend(BackendTestSuite):
    """In the suite's own workspace (`mlws init` around the bundled example), as a new user's."""

    backend_name = "local"
    bad_overrides = ("compute.no_such_key=1",)
    bad_message = "no_such_key"

    def cleanup(self, ws, env):
        super().cleanup(ws, env)
        stop_what_the_workspace_started(ws)


class InRepositoryWorkspace(BackendTestSuite):
    """The repository's example workspace (conf/, experiments/) and its long-training experiment."""

    experiment = "model_12"
    long_run = ("trainer.max_epochs=500", "logger=none")
    short_run = ("trainer.max_epochs=1", "logger=none")

    @pytest.fixture
    def backend_workspace(self, tmp_path, backend_env):
        ws = make_workspace(tmp_path / "ws")
        try:
            yield ws
        finally:
            self.cleanup(ws, backend_env)
            stop_what_the_workspace_started(ws)


@pytest.mark.ray
class TestRayBackend(InRepositoryWorkspace):
    backend_name = "ray"
    bad_overrides = ("compute.num_workers=0",)
    bad_message = "compute.num_workers: must be >= 1"

    @pytest.fixture
    def backend_env(self, tmp_path):
        return isolated_ray_env(clean_env(tmp_path))

    @pytest.fixture
    def backend_overrides(self, ray_head):  # noqa: F811  (the module's Ray head)
        return ["compute=ray", f"compute.address={ray_head['address']}"]


@pytest.mark.sky
class TestSkyBackend(InRepositoryWorkspace):
    """Against the fakes: the recorder answers every job RUNNING, and there is no node to train on."""

    backend_name = "sky"
    overrides = ("compute=sky", "compute.accelerators=V100:2")
    bad_overrides = ("compute.num_nodes=0",)
    bad_message = "compute.num_nodes: must be >= 1"
    artifacts = False  # no node trains behind the recorder, so no run finishes with files

    @pytest.fixture(autouse=True)
    def _recorder(self, tmp_path):
        self.tmp, self.calls = tmp_path, 0

    def run_mlws(self, ws, env, *args, timeout=None):
        self.calls += 1
        self.record = self.tmp / f"api-{self.calls}.json"
        return sky_mlws(ws, env, self.tmp, *args, record=self.record)

    def wait_until_training(self, ws, env, run_id):
        """The recorder answers RUNNING: there is no node to wait for."""

    def check_logs(self, out, ws):
        assert calls(self.record, "/jobs/logs")[0]["json"]["job_id"] == 7

    def cleanup(self, ws, env):
        """Nothing runs behind the recorder."""


def test_unknown_backend_target_is_one_clear_message(ws, env):
    out = mlws("train", "+experiment=model_01", "compute._target_=acme.compute.NoSuchBackend", cwd=ws, env=env)
    assert out.returncode == 2 and "compute._target_: cannot import 'acme.compute.NoSuchBackend'" in out.stderr
    assert "Traceback" not in out.stderr


USER_BACKEND = '''
import subprocess
import sys

from mlws.compute import Backend, Submission


class ScriptBackend(Backend):
    """Runs the worker as a child process and waits: a team's own backend in a dozen lines."""
    name = "script"

    def submit(self, spec_path, *, detach, prepared=None):
        done = subprocess.run([sys.executable, "-m", "mlws.worker", str(spec_path)], capture_output=True, text=True)
        print(f"{self.config['greeting']}: worker exited {done.returncode}")
        return Submission(handle={"exit": done.returncode}, remote=False)
'''


def test_a_users_own_backend_is_one_class_and_one_yaml(ws, env):
    """From the workspace's own package, through the installed `mlws` command (not `python -m`)."""
    import sys
    from pathlib import Path

    (ws / "acme").mkdir()
    (ws / "acme" / "__init__.py").write_text("")
    (ws / "acme" / "compute.py").write_text(USER_BACKEND)
    (ws / "conf" / "compute").mkdir(exist_ok=True)  # beside mlws's packaged compute blocks
    (ws / "conf" / "compute" / "script.yaml").write_text("_target_: acme.compute.ScriptBackend\ngreeting: hello\n")
    import subprocess

    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("mlws")),
            "train",
            "+experiment=model_01",
            "trainer.max_epochs=1",
            "logger=none",
            "compute=script",
            "--json",
        ],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads(out.stdout)
    assert record["backend"] == "script" and record["status"] == "succeeded"
    assert "hello: worker exited 0" in out.stderr  # --json sends everything else to stderr
    assert (ws / "runs" / "1" / "checkpoints" / "last.ckpt").exists()
