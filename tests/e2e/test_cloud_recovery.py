"""Which failures a managed job retries (issue 24, point 5), and the node's hard time limit (point 6).

- The task's job_recovery is read by SkyPilot's own recovery code (StrategyExecutor.make and its
  should_restart_on_failure, run here without a controller): only the worker's transient exit code is
  retried, never another failure.
- The node's runner (`python -m mlws.compute.sky.node_run`, the task's `run`) runs the real worker on
  this machine with a model that fails in a chosen way: it exits 75 for an NCCL timeout, 1 for a
  user's exception and for a node whose torch cannot see its GPUs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.skypilot_cli import V100x2, sky_mlws

pytestmark = [pytest.mark.sky]

FAILING = """import os, time
from mlws.examples.digits import DigitsClassifier


class Fails(DigitsClassifier):
    def training_step(self, batch, batch_idx):
        if os.environ["MLWS_TEST_FAILURE"] == "hang":
            time.sleep(3600)  # a hung collective or data loader: no batch end ever comes
        raise RuntimeError(os.environ["MLWS_TEST_FAILURE"])
"""
NCCL_TIMEOUT = (
    "[Rank 1] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=42, OpType=ALLREDUCE) "
    "ran for 600000 milliseconds before timing out. NCCL communicator was aborted"
)


def test_fake_catalog_skypilots_recovery_retries_only_the_transient_exit_code(ws, env, tmp_path):
    out = sky_mlws(ws, env, tmp_path, "plan", *V100x2, "compute.use_spot=true", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    task = json.loads(out.stdout)["task"]
    assert task["resources"]["job_recovery"] == {
        "strategy": "EAGER_NEXT_REGION",
        "max_restarts_on_errors": 0,
        "recover_on_exit_codes": [75],
    }
    assert task["run"] == "python -m mlws.compute.sky.node_run /mlws/spec.json"
    # SkyPilot's own code reads it, as its jobs controller does
    probe = (
        "import asyncio, json, sys, sky\nfrom sky.jobs.recovery_strategy import StrategyExecutor\n"
        "task = sky.Task.from_yaml_config(json.loads(sys.stdin.read()))\n"
        "async def main():\n"
        "    ex = StrategyExecutor.make('c', sky.backends.CloudVmRayBackend(), task, 1, 0, None, set(), asyncio.Lock(), asyncio.Condition())\n"
        "    print(json.dumps([type(ex).__name__, ex.max_restarts_on_errors, ex.recover_on_exit_codes,\n"
        "        [ex.should_restart_on_failure(exit_codes=c) for c in ([1], [75], None, [124], [75], [2])]]))\n"
        "asyncio.run(main())\n"
    )
    task.pop("secrets", None)
    decided = subprocess.run(
        [sys.executable, "-c", probe],
        input=json.dumps(task),
        capture_output=True,
        text=True,
        env={**env, "HOME": str(tmp_path / "home")},
        timeout=120,
    )
    assert decided.returncode == 0, decided.stderr[-2000:]
    name, max_restarts, codes, restarts = json.loads(decided.stdout.strip().splitlines()[-1])
    assert name == "EagerFailoverStrategyExecutor" and max_restarts == 0 and codes == [75]
    # a user's exception (1), a setup that failed or had no exit code, a hung setup cut off (124): not
    # retried; the worker's transient code: retried (each time)
    assert restarts == [False, True, False, False, True, False]


def _node_spec(ws: Path, tmp_path: Path, *overrides) -> Path:
    from mlws import api

    (ws / "failing.py").write_text(FAILING)
    spec = api.plan(
        [
            "+experiment=model_12",
            "model._target_=failing.Fails",
            "trainer.max_epochs=1",
            "logger=none",
            "compute=sky",
            *overrides,
        ],
        workspace=ws,
    )
    return spec.with_run(1, str(tmp_path / "unused")).write(tmp_path / "spec.json")


def _node_run(ws: Path, env: dict, tmp_path: Path, spec_path: Path, **extra) -> subprocess.CompletedProcess:
    node_env = {**env, "MLWS_REMOTE": "1", "MLWS_RUN_DIR": str(tmp_path / "node"), **extra}
    return subprocess.run(
        [sys.executable, "-m", "mlws.compute.sky.node_run", str(spec_path)],
        cwd=ws,
        env=node_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "failure, gpus, code",
    [
        (NCCL_TIMEOUT, "0", 75),  # transient: SkyPilot relaunches the job
        ("ValueError in my model", "0", 1),  # the user's bug: the same on any VM
        (NCCL_TIMEOUT, "1", 1),  # this machine has no GPU: a node whose torch cannot see its GPUs
    ],
    ids=["nccl-timeout", "user-exception", "torch-sees-no-gpu"],
)
def test_the_node_runner_exits_with_the_code_skypilot_acts_on(failure, gpus, code, ws, env, tmp_path):
    spec_path = _node_spec(ws, tmp_path)
    done = _node_run(ws, env, tmp_path, spec_path, MLWS_TEST_FAILURE=failure, SKYPILOT_NUM_GPUS_PER_NODE=gpus)
    assert done.returncode == code, (done.stdout + done.stderr)[-3000:]
    result = json.loads((tmp_path / "node" / "result.json").read_text())
    assert result["status"] == "failed"  # the worker's own record, whatever the exit code
    if code == 75:
        assert "transient failure" in done.stderr and "for SkyPilot to relaunch the job" in done.stderr


def test_transient_retries_are_bounded_by_the_count_in_the_run_directory(ws, env, tmp_path):
    spec_path = _node_spec(ws, tmp_path)
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "transient_failures.json").write_text(json.dumps({"count": 3}))  # three relaunches already
    done = _node_run(ws, env, tmp_path, spec_path, MLWS_TEST_FAILURE=NCCL_TIMEOUT, SKYPILOT_NUM_GPUS_PER_NODE="0")
    assert done.returncode == 1 and "not retried" in done.stderr, done.stderr[-2000:]


def test_a_hung_run_is_stopped_by_the_hard_time_limit(ws, env, tmp_path):
    """A step that never ends (no batch end, so the guards never act): killed at max_runtime + grace,
    recorded `stopped` with the reason, exit 0 (nothing to retry)."""
    spec_path = _node_spec(ws, tmp_path, "compute.max_runtime_minutes=0.05")  # 3 s
    done = _node_run(
        ws,
        env,
        tmp_path,
        spec_path,
        MLWS_TEST_FAILURE="hang",
        SKYPILOT_NUM_GPUS_PER_NODE="0",
        MLWS_HARD_STOP_GRACE_S="2",
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    result = json.loads((tmp_path / "node" / "result.json").read_text())
    assert result["status"] == "stopped" and result["stop_reason"].startswith("hard time limit of 0.1 min"), result
    assert "MLWS_RESULT " in done.stdout and "hard time limit" in done.stdout.rsplit("MLWS_RESULT ", 1)[1]


def test_a_notebooks_max_runtime_is_a_hard_limit_on_the_vm(tmp_path):
    """A busy kernel keeps the idle policy from stopping a notebook: max_runtime_minutes (what max_cost is
    priced on) bounds the server itself, then autostop (down) removes the VM. Run here with bash."""
    import shlex

    from mlws.compute.sky.compile import compile_notebook_task

    task = compile_notebook_task({"max_runtime_minutes": 90}, "/ws", "nb", 8888, 30.0, False, "s")
    assert task["run"].startswith("timeout --signal=TERM --kill-after=60 5400s bash -c ")
    assert task["resources"]["autostop"]["down"] is True
    assert "timeout" not in compile_notebook_task({}, "/ws", "nb", 8888, 30.0, False, "s")["run"]
    inner = shlex.split(task["run"])[-1]
    hung = task["run"].replace("5400s", "1s").replace(shlex.quote(inner), shlex.quote("sleep 30"))
    done = subprocess.run(["bash", "-c", hung], capture_output=True, timeout=20)
    assert done.returncode == 124  # cut off


def test_a_resumed_job_bills_the_minutes_since_the_preemption(ws, env, tmp_path):
    """spend.json last saved 60 s ago (then the VM was preempted; a new one was provisioned and set up):
    the node's runner adds those seconds before the worker's cost guard carries on from the ledger."""
    spec_path = _node_spec(ws, tmp_path)
    ledger = tmp_path / "node" / "spend.json"
    ledger.parent.mkdir()
    ledger.write_text(json.dumps({"billed_seconds": 100.0, "hourly_price": 3.6}))
    then = ledger.stat().st_mtime - 60
    os.utime(ledger, (then, then))
    _node_run(ws, env, tmp_path, spec_path, MLWS_TEST_FAILURE="a user's bug", SKYPILOT_NUM_GPUS_PER_NODE="0")
    data = json.loads(ledger.read_text())
    assert 160 <= data["billed_seconds"] < 175 and 60 <= data["recovery_gaps_s"][0] < 75, data
