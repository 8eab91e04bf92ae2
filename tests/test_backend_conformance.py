"""One conformance suite every compute backend passes (as Hydra's launcher_common_tests.py does).

Each backend is driven through the CLI as a user would: local (this machine), ray (a real Ray head
started by this module) and sky (SkyPilot's own validation on a fake catalog, its API server
answered by the recorder in tests/skypilot_fakes.py: the wiring, not a cloud).
"""
from __future__ import annotations

import json

import pytest

from .helpers import mlws, wait_for
from .ray_cluster import isolated_ray_env, ray_head  # noqa: F401  (module fixture)
from .test_cloud_skypilot import calls, no_real_skypilot_server, sky_mlws  # noqa: F401

LONG_RUN = ["+experiment=model_12", "trainer.max_epochs=500", "logger=none"]
BAD = {"local": ["compute.no_such_key=1"], "ray": ["compute.num_workers=0"], "sky": ["compute.num_nodes=0"]}
BAD_MESSAGE = {"local": "no_such_key", "ray": "compute.num_workers: must be >= 1", "sky": "compute.num_nodes: must be >= 1"}


class Driver:
    """Runs `mlws ...` for one backend; `started` waits until the run really trains (local, ray)."""

    def __init__(self, name, ws, env, tmp, request):
        self.name, self.ws, self.env, self.tmp = name, ws, isolated_ray_env(env), tmp
        self.overrides = ["compute=sky", "compute.accelerators=V100:2"] if name == "sky" else []
        if name == "ray":
            self.overrides = ["compute=ray", f"compute.address={request.getfixturevalue('ray_head')['address']}"]
        self.n = 0

    def __call__(self, *args, job_status="RUNNING", timeout=300):
        if self.name != "sky":
            return mlws(*args, cwd=self.ws, env=self.env, timeout=timeout)
        self.n += 1
        self.record = self.tmp / f"api-{self.n}.json"
        return sky_mlws(self.ws, self.env, self.tmp, *args, record=self.record, job_status=job_status)

    def json(self, *args, **kw):
        out = self(*args, "--json", **kw)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout)

    def started(self, run_id: int) -> None:
        if self.name == "sky":
            return  # the recorder answers RUNNING: there is no node to wait for
        progress = self.ws / "runs" / str(run_id) / "progress.json"
        wait_for(lambda: progress.exists() and json.loads(progress.read_text())["step"] > 20, 240,
                 what=f"run {run_id} training on {self.name}")


@pytest.fixture(params=["local", "ray", "sky"])
def driver(request, ws, env, tmp_path):
    d = Driver(request.param, ws, env, tmp_path, request)
    yield d
    if d.name != "sky":  # never leave a run training after a failed assertion
        for run in json.loads(mlws("runs", "--json", cwd=ws, env=d.env).stdout or "[]"):
            if run["status"] == "running":
                mlws("stop", str(run["id"]), cwd=ws, env=d.env)


def test_backend_is_chosen_by_target_and_implements_the_contract(driver):
    from mlws import api
    from mlws.compute import Backend, backend_class
    spec = api.plan(["+experiment=model_01", *driver.overrides], workspace=driver.ws)
    cls = backend_class(spec.config["compute"])
    assert issubclass(cls, Backend) and cls.name == driver.name
    assert spec.config["compute"]["_target_"].endswith(cls.__name__)
    abstract = getattr(cls, "__abstractmethods__", set())
    assert not abstract, f"{cls.__name__} leaves {abstract} unimplemented"


def test_detached_run_is_recorded_running_then_stopped(driver):
    out = driver("train", *LONG_RUN, *driver.overrides, "--detach")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("run 1 ") and "follow with: mlws logs 1 --follow" in out.stdout
    runs = driver.json("runs")
    assert [(r["id"], r["status"], r["backend"]) for r in runs] == [(1, "running", driver.name)]
    driver.started(1)
    stopped = driver("stop", "1", "--json", timeout=300)
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    assert json.loads(stopped.stdout)["status"] == "stopped"
    run = driver.json("show", "1")
    assert run["status"] == "stopped" and run["stop_reason"] and run["ended_at"]
    again = driver("stop", "1")
    assert again.returncode == 2 and "is not running (status: stopped)" in again.stderr


def test_logs_of_a_detached_run(driver):
    assert driver("train", *LONG_RUN, *driver.overrides, "--detach").returncode == 0
    driver.started(1)
    logs = driver("logs", "1")
    assert logs.returncode == 0, logs.stderr[-3000:]
    if driver.name == "sky":
        assert calls(driver.record, "/jobs/logs")[0]["json"]["job_id"] == 7
    else:
        assert "GPU available" in logs.stdout  # Lightning's own first lines, from the worker


def test_bad_compute_input_is_refused_and_records_nothing(driver):
    out = driver("train", "+experiment=model_01", "logger=none", *driver.overrides, *BAD[driver.name], "--detach")
    assert out.returncode == 2 and BAD_MESSAGE[driver.name] in out.stderr, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    assert driver.json("runs") == []


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
    out = subprocess.run([str(Path(sys.executable).with_name("mlws")), "train", "+experiment=model_01",
                          "trainer.max_epochs=1", "logger=none", "compute=script", "--json"],
                         cwd=ws, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads(out.stdout)
    assert record["backend"] == "script" and record["status"] == "succeeded"
    assert "hello: worker exited 0" in out.stderr  # --json sends everything else to stderr
    assert (ws / "runs" / "1" / "checkpoints" / "last.ckpt").exists()
