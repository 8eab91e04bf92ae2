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
import re
import resource
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


def installer_steps(stderr: str, end: float) -> list[tuple[float, str]]:
    """(seconds, what) for each installer call of a setup traced (set -x, PS4 with $EPOCHREALTIME): from
    one call's start to the next call's (the last: to `end`, the setup's end)."""
    marks = []
    for line in stderr.splitlines():
        found = re.match(r"^\++ (\d+\.\d+) (.*)", line)
        if found:
            marks.append((float(found.group(1)), found.group(2)))
    starts = [(t, cmd) for t, cmd in marks if re.match(r"(exec \S*uv pip install|pip install)", cmd)]
    out = []
    for i, (t, cmd) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else end
        out.append((stop - t, re.sub(r"--python \S+ ", "", cmd.split(" install ", 1)[-1])[:100]))
    return out


def setup_at(ref: str, task: dict, tmp: Path) -> str:
    """The setup that mlws at git REF writes for the same task (its wheel, workspace, torch, timeout)."""
    import torch

    old = tmp / f"mlws-at-{ref}"
    old.mkdir()
    archive = subprocess.run(["git", "archive", ref, "mlws"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    wheel = next(src for remote, src in task["file_mounts"].items() if remote.startswith("/mlws/dist/"))
    limit = re.search(r"timeout (\d+)m", task["setup"])
    compute = {"torch_index": "pypi", **({"setup_timeout_minutes": int(limit.group(1))} if limit else {})}
    args = json.dumps([compute, {"torch": torch.__version__}, wheel, task["workdir"]])
    code = (
        "import json, sys; from mlws.compute.sky.node_setup import node_install; "
        "print(node_install(*json.loads(sys.argv[1]))[1], end='')"
    )
    env = {**os.environ, "PYTHONPATH": str(old)}
    return subprocess.run(
        [sys.executable, "-c", code, args], env=env, capture_output=True, text=True, check=True
    ).stdout


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def setup_once(tmp: Path, task: dict, installer: str, image: str, n: int, steps: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the node's setup: the CPU seconds are what a loaded machine does not
    inflate."""
    node = Node(tmp / f"node-{installer}-{image}-{n}-{abs(hash(task['setup']))}", tmp / "buckets", uv=installer == "uv")
    node.provision(task)
    if image == "torch":
        with_torch(node)
    if steps:  # every shell of the setup traced, each line with its time (BASH_ENV: read by each bash -c)
        trace = node.folder / "trace.sh"
        trace.write_text("PS4='+ $EPOCHREALTIME '\nset -x\n")
        task = {**task, "envs": {**task.get("envs", {}), "BASH_ENV": str(trace)}}
    start, cpu = time.perf_counter(), children_cpu()
    done = node.setup(task)
    took, ended, cpu = time.perf_counter() - start, time.time(), children_cpu() - cpu
    if steps:
        for seconds, what in installer_steps(done.stderr, ended):
            print(f"      {seconds:5.1f} s  install {what}", flush=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"mlws: installing with {installer}" in done.stdout, done.stdout[-2000:]
    assert ("is on this image: kept" in done.stdout) == (image == "torch"), done.stdout[-2000:]
    shutil.rmtree(node.folder)
    return took, cpu


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
    parser.add_argument("--installers", nargs="+", choices=("pip", "uv"), default=["pip", "uv"])
    parser.add_argument("--images", nargs="+", choices=("fresh", "torch"), default=["fresh", "torch"])
    parser.add_argument("--steps", action="store_true", help="time each installer call (the setup traced)")
    parser.add_argument("--before", metavar="REF", help="also time the setup mlws at git REF writes (e.g. HEAD)")
    parser.add_argument("--show-setup", action="store_true", help="print the task's setup script first")
    args = parser.parse_args()
    assert runtime_uv(), "no uv for the simulated node (pip install uv failed)"
    load = os.getloadavg()[0]
    versions = ["now", *([args.before] if args.before else [])]
    cases = [(i, m, v) for m in args.images for i in args.installers for v in versions]
    times: dict = {c: [] for c in cases}
    cpus: dict = {c: [] for c in cases}
    with tempfile.TemporaryDirectory(prefix="mlws-bench-node-") as tmp:
        tmp = Path(tmp)
        task = launched_task(tmp)
        setups = {"now": task["setup"], **({args.before: setup_at(args.before, task, tmp)} if args.before else {})}
        if args.show_setup:
            for version, setup in setups.items():
                print(f"--- setup ({version})\n{setup}", flush=True)
        for n in range(args.repeats):
            for installer, image, version in cases:
                setup = {**task, "setup": setups[version]}
                took, cpu = setup_once(tmp, setup, installer, image, n, args.steps)
                times[installer, image, version].append(took)
                cpus[installer, image, version].append(cpu)
                print(f"  {image:5} image, {installer:3}, {version:>5}: {took:6.1f} s ({cpu:5.1f} CPU s)", flush=True)
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
    med_cpu = {c: statistics.median(v) for c, v in cpus.items()}
    print(
        f"cloud node setup on the simulated node: medians of {args.repeats}, fresh node each "
        f"(load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end, {os.cpu_count()} cores)"
    )
    for image, what in (("fresh", "fresh image (setup installs torch)"), ("torch", "image with the run's torch")):
        if image not in args.images:
            continue
        for version in versions:
            line = "".join(
                f" {i} {med[i, image, version]:6.1f} s ({med_cpu[i, image, version]:5.1f} CPU s)  "
                for i in args.installers
            )
            ratio = (
                f" ratio uv/pip {med['uv', image, version] / med['pip', image, version]:.2f}"
                if len(args.installers) == 2
                else ""
            )
            print(f"  {what:36} {version:>5}{line}{ratio}")
    if not args.no_run:
        print(f"  run start to first training step   {step:6.1f} s")
        print(f"  node wheel: built {cold_wheel * 1000:.0f} ms, from mlws's cache {warm_wheel * 1000:.0f} ms")


if __name__ == "__main__":
    main()
