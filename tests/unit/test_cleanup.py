"""The `ws` fixture's cleanup stops what a workspace started, and nothing else."""

import subprocess
import sys

from mlws.registry import open_registry
from mlws.spec import RunSpec

from ..support.helpers import stop_what_the_workspace_started


def test_cleanup_kills_the_workspaces_running_run_and_spares_other_processes(tmp_path):
    ws = tmp_path / "ws"
    (ws / ".mlws").mkdir(parents=True)
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        registry = open_registry(f"sqlite:///{ws / '.mlws' / 'registry.db'}")
        spec = RunSpec(experiment="x", overrides=(), config={}, workspace=str(ws), command="c", created_at="2026-01-01")
        run_id = registry.create(spec, "", "local", run_dir_for=str)
        registry.set_owner(run_id, ours.pid)
        assert stop_what_the_workspace_started(ws) == [ours.pid]
        assert ours.wait(timeout=10) != 0 and other.poll() is None
    finally:
        for p in (ours, other):
            p.kill()
            p.wait()


def test_cleanup_never_signals_the_test_process_itself(tmp_path):
    ws = tmp_path / "ws"
    (ws / ".mlws").mkdir(parents=True)
    registry = open_registry(f"sqlite:///{ws / '.mlws' / 'registry.db'}")
    spec = RunSpec(experiment="x", overrides=(), config={}, workspace=str(ws), command="c", created_at="2026-01-01")
    registry.create(spec, "", "local", run_dir_for=str)  # running, owned by this very process
    assert stop_what_the_workspace_started(ws) == []  # (were this process signalled, the run would die here)
