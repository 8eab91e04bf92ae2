"""The contract every compute backend passes, as a pytest class to subclass (Hydra's
`LauncherTestSuite` is the model). mlws's own local, ray and sky backends pass it in mlws's tests; a
team's backend passes it the same way:

    from mlws.testing import BackendTestSuite

    class TestScriptBackend(BackendTestSuite):
        backend_name = "script"                       # what `mlws runs` records as its backend
        overrides = ("compute=script",)               # what chooses and configures it
        bad_overrides = ("compute.greeting=",)        # compute input its prepare() must refuse ...
        bad_message = "compute.greeting: empty"       # ... with this in the message
        detach = cancel = logs = False                # capabilities it does not have

        def setup_workspace(self, ws):                # put the backend's package and YAML in place
            ...

Each test drives the `mlws` command in a subprocess, as a user would, in a fresh workspace that
`mlws init` makes around mlws's bundled digits example. Nothing here branches on a backend's name:
a backend declares what it can do with the capability flags, and changes how it is driven or
checked by overriding a hook (`mlws`, `wait_until_training`, `check_logs`, the fixtures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

__all__ = ["BackendTestSuite"]

# the net of the bundled example: logistic regression on the 64 pixels (fast, no download)
_NET = """net:
  _target_: mlws.examples.nets.MLP
  in_features: 64
  num_classes: 10
  hidden: []
  dropout: 0.0
  batch_norm: false
"""


class BackendTestSuite:
    """Subclass it in a test module (its name starting with `Test`) and set what applies."""

    # -- the backend -------------------------------------------------------------------------------
    backend_name: str = ""  # the name the backend records with each run (Backend.name)
    overrides: Sequence[str] = ()  # the overrides that choose and configure it, e.g. ("compute=ray",)
    bad_overrides: Sequence[str] = ()  # compute input it refuses before anything is recorded
    bad_message: str = ""  # a fragment of that refusal's message
    # -- what it can do (a test of a capability it lacks is skipped, saying so) ----------------------
    detach: bool = True  # `mlws train --detach` returns at once; the run is recorded running
    cancel: bool = True  # `mlws stop RUN` stops a running run and records it stopped
    logs: bool = True  # `mlws logs RUN` prints a run's output
    artifacts: bool = True  # a foreground run finishes here and `mlws cp RUN:PATH` copies its files
    # -- the runs ------------------------------------------------------------------------------------
    experiment: str = "suite_01"  # the experiment every test trains (the workspace's own)
    long_run: Sequence[str] = ("trainer.max_epochs=10000", "logger=none")  # trains until stopped
    short_run: Sequence[str] = ("trainer.max_epochs=1", "logger=none")  # finishes in seconds
    log_text: str = "GPU available"  # a line the worker's output has (Lightning's first lines)
    artifact: str = "checkpoints/last.ckpt"  # a file a finished run has, relative to its run folder
    timeout: float = 300.0  # seconds for one command, and for a run to start training

    # -- fixtures a subclass may override --------------------------------------------------------------
    @pytest.fixture
    def backend_env(self, tmp_path) -> dict:
        """The environment of every command: no W&B credentials or MLWS_* settings from this machine."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "MLWS_"))}
        env.update(
            {
                "NETRC": str(tmp_path / "no-netrc"),
                "WANDB_MODE": "offline",
                "PYTHONHASHSEED": "0",
                "WANDB_CONFIG_DIR": str(tmp_path / "wandb-config"),
                "WANDB_CACHE_DIR": str(tmp_path / "wandb-cache"),
                "WANDB_DATA_DIR": str(tmp_path / "wandb-data"),
            }
        )
        return env

    @pytest.fixture
    def backend_workspace(self, tmp_path, backend_env):
        """A fresh git repository made a workspace by `mlws init` around the bundled digits example,
        with `setup_workspace` applied and committed. What a test left running is stopped after it."""
        ws = tmp_path / "ws"
        ws.mkdir()
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
        subprocess.run([*git, "init", "-q"], cwd=ws, check=True)
        example = "mlws.examples.digits"
        out = self.run_mlws(
            ws,
            backend_env,
            "init",
            "--name",
            "suite",
            "--model",
            f"{example}.DigitsClassifier",
            "--data",
            f"{example}.DigitsDataModule",
            "--metric",
            "val/acc",
            "--mode",
            "max",
        )
        assert out.returncode == 0, out.stderr[-3000:]
        model = ws / "conf" / "model" / "suite.yaml"
        model.write_text(model.read_text().replace("net: ???\n", _NET))
        self.setup_workspace(ws)
        subprocess.run([*git, "add", "-A"], cwd=ws, check=True)
        subprocess.run([*git, "commit", "-qm", "workspace"], cwd=ws, check=True)
        try:
            yield ws
        finally:
            self.cleanup(ws, backend_env)

    @pytest.fixture
    def backend_overrides(self) -> list[str]:
        """The overrides that choose the backend; override as a fixture when they need one (an address)."""
        return list(self.overrides)

    # -- hooks a subclass may override ----------------------------------------------------------------
    def setup_workspace(self, ws: Path) -> None:
        """Put what the backend needs into a new workspace (its package, conf/compute/NAME.yaml)."""

    def run_mlws(self, ws: Path, env: dict, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
        """Run `mlws ARGS` in the workspace (a backend whose service is faked routes it through the fake)."""
        return subprocess.run(
            [sys.executable, "-m", "mlws.cli.main", *args],
            cwd=ws,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout or self.timeout,
        )

    def wait_until_training(self, ws: Path, env: dict, run_id: int) -> None:
        """Return once the run really trains (so a stop lands mid-training): its progress file has steps."""
        progress = ws / "runs" / str(run_id) / "progress.json"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if json.loads(progress.read_text())["step"] > 20:
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"run {run_id} did not start training within {self.timeout}s")

    def check_logs(self, out: subprocess.CompletedProcess, ws: Path) -> None:
        """`mlws logs RUN` of a training run printed its output."""
        assert self.log_text in out.stdout, out.stdout[-3000:]

    def cleanup(self, ws: Path, env: dict) -> None:
        """Never leave a run going after a test, even after a failed assertion."""
        listed = self.run_mlws(ws, env, "runs", "--json")
        for run in json.loads(listed.stdout or "[]") if listed.returncode == 0 else []:
            if run["status"] == "running":
                self.run_mlws(ws, env, "stop", str(run["id"]))

    # -- helpers ----------------------------------------------------------------------------------------
    def mlws_json(self, ws: Path, env: dict, *args: str):
        out = self.run_mlws(ws, env, *args, "--json")
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout)

    def _needs(self, capability: str) -> None:
        if not getattr(self, capability):
            pytest.skip(f"the backend declares {capability} = False")

    # -- the contract -----------------------------------------------------------------------------------
    def test_backend_is_chosen_by_target_and_implements_the_contract(
        self, backend_workspace, backend_env, backend_overrides
    ):
        from mlws.compute import Backend, backend_class

        assert self.backend_name, "set backend_name: the name the backend records with each run"
        plan = self.mlws_json(
            backend_workspace, backend_env, "plan", f"+experiment={self.experiment}", *backend_overrides
        )
        config = plan["spec"]["config"] if "spec" in plan else plan["config"]
        cls = backend_class(config["compute"], workspace=backend_workspace)
        assert issubclass(cls, Backend) and cls.name == self.backend_name
        assert config["compute"]["_target_"].endswith(cls.__name__)
        abstract: frozenset[str] = getattr(cls, "__abstractmethods__", frozenset())
        assert not abstract, f"{cls.__name__} leaves {abstract} unimplemented"
        assert self.mlws_json(backend_workspace, backend_env, "runs") == []  # a plan records nothing

    def test_bad_compute_input_is_refused_and_records_nothing(self, backend_workspace, backend_env, backend_overrides):
        assert self.bad_overrides and self.bad_message, (
            "set bad_overrides and bad_message: compute input the backend refuses before anything is recorded"
        )
        out = self.run_mlws(
            backend_workspace,
            backend_env,
            "train",
            f"+experiment={self.experiment}",
            *self.short_run,
            *backend_overrides,
            *self.bad_overrides,
            "--detach" if self.detach else "--json",
        )
        assert out.returncode == 2 and self.bad_message in out.stderr, out.stderr[-3000:]
        assert "Traceback" not in out.stderr
        assert self.mlws_json(backend_workspace, backend_env, "runs") == []

    def test_detached_run_is_recorded_running_then_stopped(self, backend_workspace, backend_env, backend_overrides):
        self._needs("detach")
        self._needs("cancel")
        ws, env = backend_workspace, backend_env
        out = self.run_mlws(
            ws, env, "train", f"+experiment={self.experiment}", *self.long_run, *backend_overrides, "--detach"
        )
        assert out.returncode == 0, out.stderr[-3000:]
        assert out.stdout.startswith("run 1 ") and "follow with: mlws logs 1 --follow" in out.stdout
        runs = self.mlws_json(ws, env, "runs")
        assert [(r["id"], r["status"], r["backend"]) for r in runs] == [(1, "running", self.backend_name)]
        self.wait_until_training(ws, env, 1)
        stopped = self.run_mlws(ws, env, "stop", "1", "--json")
        assert stopped.returncode == 0, stopped.stderr[-3000:]
        assert json.loads(stopped.stdout)["status"] == "stopped"
        run = self.mlws_json(ws, env, "show", "1")
        assert run["status"] == "stopped" and run["stop_reason"] and run["ended_at"]
        again = self.run_mlws(ws, env, "stop", "1")
        assert again.returncode == 2 and "is not running (status: stopped)" in again.stderr

    def test_logs_of_a_detached_run(self, backend_workspace, backend_env, backend_overrides):
        self._needs("detach")
        self._needs("logs")
        ws, env = backend_workspace, backend_env
        out = self.run_mlws(
            ws, env, "train", f"+experiment={self.experiment}", *self.long_run, *backend_overrides, "--detach"
        )
        assert out.returncode == 0, out.stderr[-3000:]
        self.wait_until_training(ws, env, 1)
        logs = self.run_mlws(ws, env, "logs", "1")
        assert logs.returncode == 0, logs.stderr[-3000:]
        self.check_logs(logs, ws)

    def test_a_finished_runs_artifacts_are_reachable(self, backend_workspace, backend_env, backend_overrides, tmp_path):
        self._needs("artifacts")
        ws, env = backend_workspace, backend_env
        out = self.run_mlws(
            ws, env, "train", f"+experiment={self.experiment}", *self.short_run, *backend_overrides, "--json"
        )
        assert out.returncode == 0, out.stderr[-3000:]
        record = json.loads(out.stdout)
        assert record["backend"] == self.backend_name and record["status"] == "succeeded", record
        assert self.mlws_json(ws, env, "show", "1")["status"] == "succeeded"
        copied = self.run_mlws(ws, env, "cp", f"1:{self.artifact}", str(tmp_path / "copied"))
        assert copied.returncode == 0, copied.stderr[-3000:]
        found = (
            [p for p in (tmp_path / "copied").rglob("*") if p.is_file()]
            if (tmp_path / "copied").is_dir()
            else [tmp_path / "copied"]
        )
        assert found and all(p.stat().st_size > 0 for p in found), f"mlws cp copied nothing of {self.artifact}"
