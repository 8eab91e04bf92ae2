"""A cloud node's setup, on the simulated node (tests/support/sim_node.py): the task `mlws train … compute=sky`
sends (through the recorded API), its setup run for real on fresh nodes (a new HOME each: no pip or uv
cache, as on a new VM or a spot recovery's new VM), with SkyPilot's runtime in place (its uv at
~/.local/bin/uv, ~/sky-user-env made before setup).

Before/after in the same run, interleaved so that the machine's load hits both alike:
- installer: pip (the before path: what the setup did before it used SkyPilot's uv, and still does on a
  node without it) vs uv;
- image: a fresh image (no torch: setup installs it) vs an image with the run's torch (a deep learning
  image: setup keeps it).
Medians of --repeats (3) each. Then one job's run start to its first training step, and the node wheel
built cold vs found in mlws's cache.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from benchlib import REPO, make_workspace, offline_env

sys.path.insert(0, str(REPO))
from tests.support.sim_node import Node, package_sources, runtime_uv  # noqa: E402


def launched_task(tmp: Path) -> dict:
    ws = make_workspace(tmp / "ws")
    (ws / ".gitignore").write_text("runs/\n.mlws/\nwandb/\n")
    home = tmp / "home"
    home.mkdir()
    env = {**offline_env(tmp), "HOME": str(home), "SKY_RUNTIME_DIR": str(home)}
    record = tmp / "launch.json"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "support" / "skypilot_fakes.py"),
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
    return list(yaml.safe_load_all(launch["json"]["task"]))[-1]


def with_torch(node: Node) -> None:
    """The image's torch, put in before setup (not timed): the run's version, as a DL image has it."""
    import torch

    env = {**os.environ, **package_sources(), "VIRTUAL_ENV": str(node.venv)}
    python = node.venv / "bin" / "python"
    version = torch.__version__.split("+")[0]
    subprocess.run(
        [str(runtime_uv()), "pip", "install", "-q", "--python", str(python), f"torch=={version}"],
        env={**env, "UV_FIND_LINKS": env.get("PIP_FIND_LINKS", ""), "SSL_CERT_FILE": env.get("PIP_CERT", "")},
        check=True,
    )


def setup_once(tmp: Path, task: dict, installer: str, image: str, n: int) -> float:
    node = Node(tmp / f"node-{installer}-{image}-{n}", tmp / "buckets", uv=installer == "uv")
    node.provision(task)
    if image == "torch":
        with_torch(node)
    start = time.perf_counter()
    done = node.setup(task)
    took = time.perf_counter() - start
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"mlws: installing with {installer}" in done.stdout, done.stdout[-2000:]
    assert ("is on this image: kept" in done.stdout) == (image == "torch"), done.stdout[-2000:]
    shutil.rmtree(node.folder)
    return took


def first_step(tmp: Path, task: dict) -> float:
    node = Node(tmp / "node-run", tmp / "buckets")
    node.provision(task)
    assert node.setup(task).returncode == 0
    run_dir = Path(node.here(task["envs"]["MLWS_RUN_DIR"]))
    start = time.perf_counter()
    job = node.run(task)
    while not (run_dir / "progress.json").exists():
        assert job.poll() is None, job.stdout.read()[-3000:]
        time.sleep(0.05)
    took = time.perf_counter() - start
    job.communicate(timeout=600)
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-run", action="store_true", help="skip the first-step and wheel timings")
    args = parser.parse_args()
    assert runtime_uv(), "no uv for the simulated node (pip install uv failed)"
    load = os.getloadavg()[0]
    cases = [(i, m) for m in ("fresh", "torch") for i in ("pip", "uv")]
    times: dict = {c: [] for c in cases}
    with tempfile.TemporaryDirectory(prefix="mlws-bench-node-") as tmp:
        tmp = Path(tmp)
        task = launched_task(tmp)
        for n in range(args.repeats):
            for installer, image in cases:
                times[installer, image].append(setup_once(tmp, task, installer, image, n))
                print(f"  {image:5} image, {installer:3}: {times[installer, image][-1]:6.1f} s", flush=True)
        if not args.no_run:
            step = first_step(tmp, task)
            from mlws.compute.sky.wheel import build

            start = time.perf_counter()
            build(cache=tmp / "wheels")
            cold_wheel = time.perf_counter() - start
            start = time.perf_counter()
            build(cache=tmp / "wheels")
            warm_wheel = time.perf_counter() - start
    med = {c: statistics.median(v) for c, v in times.items()}
    print(
        f"cloud node setup on the simulated node: medians of {args.repeats}, fresh node each "
        f"(load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end, {os.cpu_count()} cores)"
    )
    for image, what in (("fresh", "fresh image (setup installs torch)"), ("torch", "image with the run's torch")):
        pip, uv = med["pip", image], med["uv", image]
        print(f"  {what:36} pip {pip:6.1f} s   uv {uv:6.1f} s   ratio uv/pip {uv / pip:.2f}")
    if not args.no_run:
        print(f"  run start to first training step   {step:6.1f} s")
        print(f"  node wheel: built {cold_wheel * 1000:.0f} ms, from mlws's cache {warm_wheel * 1000:.0f} ms")


if __name__ == "__main__":
    main()
