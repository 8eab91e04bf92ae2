"""Run the mlws CLI against SkyPilot with a fake catalog and a recorded API boundary.

There is no cloud and no internet here. This script (run in its own process, because SkyPilot fixes
its catalog directory when imported) seeds a small synthetic catalog into $HOME, marks AWS as the
enabled cloud (the credential/identity checks are patched), and, with --record FILE, replaces the
SDK's HTTP calls to the SkyPilot API server with a recorder that answers like the server would.
Tests built on it prove the wiring, not a cloud.

usage: python tests/support/skypilot_fakes.py [--record FILE] [--job-status STATUS|CLUSTER_GONE] [--job-log FILE] [--sky] -- mlws-args...
       (buckets: a real S3-compatible server on loopback, tests/support/s3_server.py, through boto3)
       (--sky: the arguments go to SkyPilot's own `sky` CLI instead of mlws)
"""

import json
import os
import sys
import time
from pathlib import Path

VMS = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch
p3.2xlarge,V100,1.0,8.0,61.0,,3.06,0.92,us-east-1,us-east-1a,x86_64
p3.8xlarge,V100,4.0,32.0,244.0,,12.24,3.67,us-east-1,us-east-1a,x86_64
p3.16xlarge,V100,8.0,64.0,488.0,,24.48,7.34,us-east-1,us-east-1a,x86_64
p4d.24xlarge,A100,8.0,96.0,1152.0,,32.77,9.83,us-east-1,us-east-1a,x86_64
m6i.2xlarge,,,8.0,32.0,,0.384,0.12,us-east-1,us-east-1a,x86_64
"""
# A fake V100:2 offering so that the example (compute.accelerators=V100:2) has a price.
VMS += "p3.4xlarge-fake,V100,2.0,16.0,122.0,,6.12,1.84,us-east-1,us-east-1a,x86_64\n"
# ... and in a second region, dearer: where a spot recovery may bring the job up (region prices)
VMS += "p3.4xlarge-fake,V100,2.0,16.0,122.0,,6.73,2.02,eu-west-1,eu-west-1a,x86_64\n"


def seed_catalog(home: Path) -> None:
    base = home / ".sky" / "catalogs" / "v8"
    (base / "aws").mkdir(parents=True, exist_ok=True)
    (base / "common").mkdir(parents=True, exist_ok=True)
    _write_if_changed(base / "aws" / "vms.csv", VMS)
    _write_if_changed(base / "common" / "accelerators.csv", "AcceleratorName,Clouds\nV100,AWS\nA100,AWS\n")
    _write_if_changed(base / "common" / "metadata.csv", "GPU,MemoryGB,Manufacturer\nV100,16,NVIDIA\nA100,40,NVIDIA\n")


def _write_if_changed(path: Path, text: str) -> None:
    """An unchanged catalog keeps its mtime, as SkyPilot's own does between refreshes (mlws's plan
    cache keys on the catalog files' mtimes)."""
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def _aws(*a, **k):
    from sky.clouds import AWS

    return [AWS()]


_none = lambda *a, **k: None  # noqa: E731
# module -> {attribute: fake}: the credential/identity/AZ lookups that need a cloud account
PATCHES = {
    "sky.check": {"get_cached_enabled_clouds_or_refresh": _aws, "check_capability": _none},
    "sky.catalog.aws_catalog": {"_get_az_mappings": _none},
    "sky.backends.backend_utils": {"check_owner_identity": _none},
}


def _patch(name: str, module) -> None:
    for attr, fake in PATCHES[name].items():
        assert hasattr(module, attr), f"SkyPilot no longer has {name}.{attr}"
        setattr(module, attr, fake)


class _AfterImport:
    """Patches each module of PATCHES right after it has executed: SkyPilot is imported only when
    mlws imports it (a plan answered from mlws's plan cache never does), as in the CLI."""

    def find_spec(self, name, path, target=None):
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path) if name in PATCHES else None
        if spec:
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                _patch(name, module)

            spec.loader.exec_module = exec_module
        return spec


def enable_aws() -> None:
    import importlib

    # as in the CLI: mlws's SkyPilot module before SkyPilot (it keeps a slow import out of SkyPilot's);
    # a call, not an import statement, so that sorting the imports cannot move it after SkyPilot's
    importlib.import_module("mlws.compute.sky.skypilot")
    for name in PATCHES:
        if name in sys.modules:  # already imported: patched now
            _patch(name, sys.modules[name])
    sys.meta_path.insert(0, _AfterImport())


class FakeResponse:
    def __init__(self, status_code=200, headers=None, body=None, text=""):
        self.status_code, self.headers, self._body, self.text = status_code, headers or {}, body, text or ""
        self.content = self.text.encode()

    def json(self):
        return self._body

    def iter_content(self, chunk_size=None):
        yield self.content

    def raise_for_status(self):
        pass


def record_api(log_path: Path, job_status: str, job_log: str = "epoch 1 val/acc 0.9\n") -> None:
    """Answer the SDK's requests as a SkyPilot API server would, and log each one."""
    from sky.server import common as server_common
    from sky.server.requests import payloads
    from sky.server.requests import requests as requests_lib

    calls, names = [], {}
    results = {
        "jobs.launch": ([7], None),
        "jobs.cancel": None,
        "jobs.queue": [],
        "launch": (3, None),
        "cancel": None,
        "endpoints": {"8000": "203.0.113.7:8000"},
    }

    def save():
        log_path.write_text(json.dumps(calls, indent=1, default=str))

    def fake(method, path, server_url=None, retry=True, **kwargs):
        calls.append({"method": method, "path": path.split("?")[0], "json": kwargs.get("json")})
        save()
        if path.startswith("/api/get"):
            rid = path.split("request_id=")[1]
            name = names.get(rid, "unknown")
            value = results.get(name)
            if name == "jobs.queue.v2":  # what the server's queue_v2 returns (its own encoder runs below)
                from sky.jobs.state import ManagedJobStatus
                from sky.schemas.api.responses import ManagedJobRecord

                known = job_status in ManagedJobStatus.__members__
                record = ManagedJobRecord(job_id=7, status=ManagedJobStatus(job_status if known else "RUNNING"))
                name, value = "sky.jobs.queue_v2", ([record], 1, {}, 1)
                if not known:  # a state this SkyPilot does not know, as a newer server might send
                    value = {"jobs": [{"job_id": 7, "status": job_status}], "total": 1}
                    name = "unknown"
            gone = name == "job_status" and job_status == "CLUSTER_GONE"  # autostop tore the cluster down
            req = requests_lib.Request(
                request_id=rid,
                name=name,
                entrypoint=print,
                request_body=payloads.RequestBody(),
                status=requests_lib.RequestStatus.FAILED if gone else requests_lib.RequestStatus.SUCCEEDED,
                created_at=time.time(),
                user_id="u",
            )
            if gone:
                from sky import exceptions

                req.set_error(exceptions.ClusterDoesNotExist("Cluster does not exist (recorded API)"))
            else:
                req.set_return_value(value)
            return FakeResponse(body=json.loads(req.encode().model_dump_json()))
        if path.startswith("/api/stream"):  # the request's own output, then its result (/api/get)
            rid = (kwargs.get("params") or {}).get("request_id")
            return FakeResponse(headers={"X-Skypilot-Request-ID": rid}, text="Launching (recorded API): provisioning\n")
        if path.startswith("/validate"):
            return FakeResponse(body={})
        if path.startswith(("/jobs/logs", "/logs")):
            return FakeResponse(headers={"X-Skypilot-Request-ID": "logs-1"}, text=job_log)
        rid = f"req-{len(calls)}"
        names[rid] = path.strip("/").replace("/", ".")
        return FakeResponse(headers={"X-Skypilot-Request-ID": rid}, body={})

    server_common.make_authenticated_request = fake
    server_common.check_server_healthy_or_start_fn = lambda *a, **k: None
    import sky.client.sdk as sdk
    import sky.jobs.client.sdk as jobs_sdk

    for module in (sdk, jobs_sdk):
        module.server_common.make_authenticated_request = fake
    save()


def main(argv: list[str]) -> int:
    record, job_status, sky_cli, job_log = None, "RUNNING", False, None
    while argv and argv[0] != "--":
        flag = argv.pop(0)
        if flag == "--record":
            record = Path(argv.pop(0))
        elif flag == "--job-status":
            job_status = argv.pop(0)
        elif flag == "--sky":
            sky_cli = True
        elif flag == "--job-log":  # a file: what the job's log holds (e.g. a real node's output)
            job_log = Path(argv.pop(0)).read_text()
    argv = argv[1:]
    home = Path(os.environ["HOME"])
    seed_catalog(home)
    enable_aws()
    if record:
        record_api(record, job_status, **({"job_log": job_log} if job_log is not None else {}))
    if sky_cli:
        from sky.client.cli.command import cli

        try:
            cli.main(args=argv, prog_name="sky", standalone_mode=False)
        except SystemExit as e:
            return e.code or 0
        return 0
    from mlws.cli.main import main as mlws_main

    return mlws_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
