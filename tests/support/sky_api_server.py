"""A real SkyPilot API server (its own `python -m sky.server.server`), offline, for tests.

It runs in a temporary HOME with the synthetic catalog of tests/support/skypilot_fakes.py, and the only fakes are
those of skypilot_fakes.enable_aws() (credential/identity/AZ lookups that need a network). They must act in
the server's own processes, uvicorn and its request executors (multiprocessing 'spawn'), so the server gets
PYTHONPATH=<dir with a sitecustomize.py> that patches each module as it is imported; plus one more network
call, EC2's DescribeImages for an AMI's root device. Clients only talk HTTP.
Demo: python -m tests.sky_api_server
"""

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from .helpers import free_port

try:
    from tests.support.skypilot_fakes import seed_catalog
except ImportError:  # run as a script: tests/ itself is on sys.path
    from skypilot_fakes import seed_catalog

REPO = Path(__file__).resolve().parents[2]
PYTHON, SKY = REPO / ".venv" / "bin" / "python", REPO / ".venv" / "bin" / "sky"
START_TIMEOUT_S = 120
# Catalog files an AWS dry run also reads and seed_catalog() lacks; missing, SkyPilot downloads them from
# GitHub (images.csv: fatal offline). AMI tags looked up for a V100 host: CPU, GPU, and the CUDA-12 GPU one.
EXTRA_CATALOG = {
    "images.csv": "Tag,Region,OS,OSVersion,ImageId,CreationDate\n"
    + "".join(
        f"skypilot:{t},us-east-1,ubuntu,22.04,ami-0{i:016d},20250101\n"
        for i, t in enumerate(["custom-cpu-ubuntu", "custom-gpu-ubuntu-cuda13", "custom-gpu-ubuntu"])
    ),
    "instance_quota_mapping.csv": "InstanceType,OnDemandInstanceCode,SpotInstanceCode\n",  # no rows: no quota call
}
# skypilot_fakes.enable_aws()'s four patches, each applied right after its module has executed: enable_aws()
# needs all three modules at once, but sky.catalog.aws_catalog is imported lazily, after the cloud check.
SITECUSTOMIZE = """import importlib.machinery, os, sys  # from tests/support/sky_api_server.py
def _aws(*a, **k):
    from sky.clouds import AWS
    return [AWS()]
_none = lambda *a, **k: None
_root_device = classmethod(lambda cls, image_id, region: sys.modules["sky.clouds.aws"].DEFAULT_ROOT_DEVICE_NAME)
PATCHES = {"sky.check": {"get_cached_enabled_clouds_or_refresh": _aws, "check_capability": _none},
           "sky.catalog.aws_catalog": {"_get_az_mappings": _none},
           "sky.backends.backend_utils": {"check_owner_identity": _none},
           # EC2 DescribeImages for the AMI's root device (retried ~50 s without credentials)
           "sky.clouds.aws": {"AWS.get_image_root_device_name": _root_device}}
class _AfterImport:
    def find_spec(self, name, path, target=None):
        spec = importlib.machinery.PathFinder.find_spec(name, path) if name in PATCHES else None
        if spec:
            run = spec.loader.exec_module
            def exec_module(module):
                run(module)
                for attr, fake in PATCHES[name].items():
                    owner, _, leaf = attr.rpartition(".")
                    target = getattr(module, owner) if owner else module
                    assert hasattr(target, leaf), f"SkyPilot no longer has {name}.{attr}"
                    setattr(target, leaf, fake)
            spec.loader.exec_module = exec_module
        return spec
if os.environ.get("MLWS_SKY_OFFLINE_FAKES") == "1":
    sys.meta_path.insert(0, _AfterImport())
"""


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/api/health", timeout=2) as r:
            return json.loads(r.read()).get("status") == "healthy"
    except (OSError, ValueError):
        return False


def start(home: Path, port: int | None = None, attempts: int = 3) -> dict:
    """A healthy server; a port taken between choosing it and binding it (another process raced
    for it) means another port, at most `attempts` times."""
    for attempt in range(attempts):
        try:
            return _start(home, port)
        except PortTaken:
            if port is not None or attempt == attempts - 1:
                raise


class PortTaken(RuntimeError):
    pass


def _start(home: Path, port: int | None) -> dict:
    home, port = Path(home), port or free_port()
    seed_catalog(home)
    for name, text in EXTRA_CATALOG.items():
        (home / ".sky" / "catalogs" / "v8" / "aws" / name).write_text(text)
    endpoint, site = f"http://127.0.0.1:{port}", Path(tempfile.mkdtemp(prefix="mlws-sky-site-"))
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKYPILOT_", "SKY_", "AWS_"))}
    env.update(
        HOME=str(home),
        SKYPILOT_DISABLE_USAGE_COLLECTION="1",  # no telemetry upload
        AWS_EC2_METADATA_DISABLED="true",  # boto3: no credential probe of 169.254.169.254
        SKYPILOT_API_SERVER_ENDPOINT=endpoint,
    )  # clients: a "remote" server, never one they auto-start
    # What `sky api start` sets (sky/server/common.py:_start_api_server), plus the fakes.
    server_env = {k: v for k, v in env.items() if k != "SKYPILOT_API_SERVER_ENDPOINT"}
    server_env.update(
        IS_SKYPILOT_SERVER="true",
        SKYPILOT_API_SERVER_LOCAL_PORT=str(port),
        MLWS_SKY_OFFLINE_FAKES="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")])),
    )
    log = home / ".sky" / "api_server" / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with open(log, "w") as out:  # the command `sky api start` runs; run here to own its pid and session
        proc = subprocess.Popen(
            [str(PYTHON), "-m", "sky.server.server", "--host=127.0.0.1", f"--port={port}"],
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=home,
        )
    info = {
        "endpoint": endpoint,
        "env": env,
        "pid": proc.pid,
        "proc": proc,
        "site": str(site),
        "log": str(log),
        "stop_env": dict(env, SKYPILOT_API_SERVER_LOCAL_PORT=str(port)),
    }  # `sky api stop` finds it by port
    while not _healthy(endpoint):
        if proc.poll() is not None or time.monotonic() - t0 > START_TIMEOUT_S:
            stop(info)
            text = log.read_text()
            error = PortTaken if "Address already in use" in text else RuntimeError
            raise error(f"SkyPilot API server did not come up (exit {proc.returncode}):\n" + text[-3000:])
        with contextlib.suppress(subprocess.TimeoutExpired):  # poll interval; ends at once if the server dies
            proc.wait(timeout=0.25)
    info["start_s"] = round(time.monotonic() - t0, 1)
    return info


def _group(pgid: int) -> list:
    """Live processes of the server's process group: its executors stay in it, even when orphaned."""
    import psutil  # a SkyPilot dependency

    def member(p):
        try:
            return os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE
        except (psutil.Error, OSError):
            return False

    return [p for p in psutil.process_iter() if member(p)]


def stop(info: dict) -> None:
    import psutil

    subprocess.run([str(SKY), "api", "stop"], env=info["stop_env"], capture_output=True, timeout=60)
    left = _group(info["pid"])  # e.g. the executors of a server that died before `sky api stop`
    with contextlib.suppress(ProcessLookupError):
        os.killpg(info["pid"], signal.SIGKILL)
    psutil.wait_procs(left, timeout=30)
    info["proc"].wait(timeout=30)
    shutil.rmtree(info["site"], ignore_errors=True)
    info["left_after_api_stop"] = len(left)  # 0 when `sky api stop` did its job
    assert not _group(info["pid"]), "SkyPilot API server processes survived stop()"


def _demo(work: Path) -> None:
    info = start(work / "home")
    print(
        f"server {info['endpoint']} pid {info['pid']} healthy after {info['start_s']}s; boto3 importable:",
        importlib.util.find_spec("boto3") is not None,
    )
    try:
        (work / "data.txt").write_text("hello\n")
        task = (
            "resources:\n  infra: aws\n  accelerators: V100:1\n"
            f"file_mounts:\n  /data/data.txt: {work / 'data.txt'}\n"
            "secrets:\n  API_TOKEN: null\nrun: echo $API_TOKEN\n"
        )
        (work / "task.yaml").write_text(task)
        (work / "bad.yaml").write_text(task.replace("data.txt\n", "missing.txt\n"))
        # `sky jobs launch` has no --dryrun in 0.14.1; without -y the server validates and optimizes the
        # job, then the CLI asks to proceed: "n" stops it before a jobs controller is launched.
        for args, answer in [
            (["launch", "--dryrun", "-y", "--secret", "API_TOKEN=s3cr3t", "task.yaml"], None),
            (["launch", "--dryrun", "-y", "--secret", "API_TOKEN=x", "bad.yaml"], None),
            (["launch", "--dryrun", "-y", "task.yaml"], None),  # secret without a value
            (["jobs", "launch", "--secret", "API_TOKEN=x", "task.yaml"], "n\n"),
        ]:
            t0 = time.monotonic()
            r = subprocess.run(
                [str(SKY), *args], env=info["env"], cwd=work, input=answer, capture_output=True, text=True, timeout=300
            )
            print(
                f"--- sky {' '.join(args)} -> rc {r.returncode} in {time.monotonic() - t0:.1f}s\n"
                + (r.stdout + r.stderr)[-2500:]
            )
    finally:
        stop(info)
        print(f"stopped; processes left by `sky api stop` (killed here): {info['left_after_api_stop']}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="mlws-sky-demo-") as tmp:
        _demo(Path(tmp))
