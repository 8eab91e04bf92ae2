"""A cloud node's setup, on the simulated node (tests/sim_node.py): the task `mlws train … compute=sky`
sends (through the recorded API), its setup run for real in a clean virtual environment, twice:
cold (a fresh node: nothing in pip's cache, as on a new VM) and warm (a second node whose HOME keeps
pip's cache: what a cached wheelhouse on the image would save), then the job's run start to its first
training step. Also the node wheel itself, built cold vs found in mlws's cache.
"""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from benchlib import REPO, make_workspace, offline_env

sys.path.insert(0, str(REPO))
from tests.sim_node import Node  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mlws-bench-node-") as tmp:
        tmp = Path(tmp)
        ws = make_workspace(tmp / "ws")
        (ws / ".gitignore").write_text("runs/\n.mlws/\nwandb/\n")
        home = tmp / "home"
        home.mkdir()
        env = {**offline_env(tmp), "HOME": str(home), "SKY_RUNTIME_DIR": str(home)}
        record = tmp / "launch.json"
        subprocess.run(
            [
                sys.executable,
                str(REPO / "tests" / "skypilot_fakes.py"),
                "--record",
                str(record),
                "--",
                "train",
                "+experiment=model_12",
                "compute=sky",
                "compute.bucket=s3://bench/mlws",
                "compute.torch_index=pypi",
                "logger=none",
                "trainer.max_epochs=1",
                "--detach",
            ],
            cwd=ws,
            env=env,
            check=True,
            capture_output=True,
        )
        launch = [c for c in json.loads(record.read_text()) if c["path"] == "/jobs/launch"][-1]
        task = list(yaml.safe_load_all(launch["json"]["task"]))[-1]
        times = {}
        node = Node(tmp / "node", tmp / "buckets")
        for name in ("cold", "warm"):
            if name == "warm":  # a new node, the same HOME: pip's cache of the first setup
                shutil.rmtree(node.venv)
            node.provision(task)
            start = time.perf_counter()
            done = node.setup(task)
            assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
            times[name] = time.perf_counter() - start
        run_dir = Path(node.here(task["envs"]["MLWS_RUN_DIR"]))
        start = time.perf_counter()
        job = node.run(task)
        while not (run_dir / "progress.json").exists():
            assert job.poll() is None, job.stdout.read()[-3000:]
            time.sleep(0.05)
        first_step = time.perf_counter() - start
        job.communicate(timeout=600)
        from mlws.compute.sky.wheel import build

        start = time.perf_counter()
        build(cache=tmp / "wheels")
        cold_wheel = time.perf_counter() - start
        start = time.perf_counter()
        build(cache=tmp / "wheels")
        warm_wheel = time.perf_counter() - start
    print("cloud node setup on the simulated node (one run each)")
    print(f"  setup, fresh node (no pip cache)   {times['cold']:6.1f} s")
    print(
        f"  setup, pip's cache kept            {times['warm']:6.1f} s   ratio {times['warm'] / times['cold']:.2f} "
        f"(a cached wheelhouse saves {times['cold'] - times['warm']:.0f} s)"
    )
    print(f"  run start to first training step   {first_step:6.1f} s")
    print(f"  node wheel: built {cold_wheel * 1000:.0f} ms, from mlws's cache {warm_wheel * 1000:.0f} ms")


if __name__ == "__main__":
    main()
