"""The Ray backend: a run is a Ray job (Jobs API) running the one worker entry point.

The workspace is the job's working directory (uploaded by Ray, without .git, runs/, .mlws/, .venv);
the frozen RunSpec travels in the job's environment. On a head on this machine (and no
`compute.storage`) the worker records into the workspace's registry itself; otherwise it writes
result.json into `compute.storage`, which `status` reads back. With `num_workers > 1` the worker trains through Ray Train (see train.py).
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

from ... import node_env
from ...errors import MlwsError
from ..base import Backend, Status, Submission
from .resources import placement_problem, worker_resources

# Ray job states → registry status
STATUS = {
    "PENDING": "running",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "STOPPED": "stopped",
}
EXCLUDES = [".git", "runs/", ".mlws/", ".venv/", "venv/", "__pycache__/", "wandb/", "*.egg-info/"]
STOP_GRACE_S = 60  # SIGTERM → Lightning saves last.ckpt and the worker records 'stopped', before SIGKILL


def _message(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _local_address(address: str) -> bool:
    host = urlparse(address if "://" in address else f"http://{address}").hostname or ""
    return host in ("127.0.0.1", "localhost", "::1", socket.gethostname())


class RayBackend(Backend):
    name = "ray"
    extra = "ray"

    # -- reaching the cluster --------------------------------------------------------------------
    def _address(self, workspace: Path) -> str:
        if self.config.get("address"):
            return str(self.config["address"])
        from ...workspace import Workspace
        from .head import local_head

        return local_head(Workspace(workspace).state_dir)

    @staticmethod
    def client(address: str):
        import logging

        from ray.job_submission import JobSubmissionClient

        from .head import use_token_if_any

        # Ray's upload and websocket chatter is not the user's business (some of its loggers set INFO)
        for name in (
            "ray",
            "ray.dashboard.modules.dashboard_sdk",
            "ray.dashboard.modules.job.sdk",
            "ray._private.runtime_env.packaging",
            "ray._private.runtime_env.working_dir",
        ):
            logging.getLogger(name).setLevel(logging.ERROR)
        # Ray lets these variables override an explicit address; the run's address must win.
        for name in ("RAY_ADDRESS", "RAY_API_SERVER_ADDRESS"):
            os.environ.pop(name, None)
        use_token_if_any()
        try:
            return JobSubmissionClient(address)
        except Exception as e:
            raise MlwsError(
                f"cannot reach the Ray cluster at {address}: {_message(e)} "
                "(compute.address is the head's dashboard address, e.g. http://head:8265)"
            ) from None

    # -- before anything is recorded ---------------------------------------------------------------
    def prepare(self, spec) -> dict:
        c = self.config
        workers = int(c.get("num_workers") or 1)
        if workers < 1:
            raise MlwsError("compute.num_workers: must be >= 1")
        address = self._address(Path(spec.workspace))
        local = _local_address(address)
        storage = c.get("storage")
        if storage and ("://" in str(storage) or not os.path.isabs(str(storage))):
            raise MlwsError(
                f"compute.storage: {storage!r} must be an absolute path that every node and this machine "
                "share (bucket URLs are not supported yet)"
            )
        if not local and not storage:
            raise MlwsError(
                f"compute.storage: the Ray cluster at {address} is not on this machine, so runs need "
                "a path every node and this machine share (e.g. /mnt/shared/mlws) for their files"
            )
        client = self.client(address)
        if c.get("check_resources", True):
            self._check_resources(address, workers)
        runtime_env = self._runtime_env(spec)
        from .upload import upload_workspace

        upload_workspace(client, runtime_env, Path(spec.workspace))  # Ray's own size check, before recording
        return {"address": address, "local": local, "runtime_env": runtime_env}

    def _check_resources(self, address: str, workers: int) -> None:
        """Refuse a run the cluster can never place, naming both numbers."""
        import time

        # A head that has just started lists its node a moment later, and a busy dashboard can miss
        # one request: retry both for a while, then report what went wrong.
        deadline, nodes, error = time.monotonic() + 30, [], None
        while not nodes and time.monotonic() < deadline:
            try:
                nodes = _node_resources(address)
            except MlwsError as e:
                error = e
            if not nodes:
                time.sleep(0.5)
        if not nodes and error is not None:
            raise error
        problem = placement_problem(worker_resources(self.config), workers, nodes)
        if problem:
            raise MlwsError(f"{problem}, on the Ray cluster at {address}")

    def _runtime_env(self, spec) -> dict:
        import mlws

        excludes = EXCLUDES + [str(e) for e in self.config.get("excludes") or []]
        env = {str(k): str(v) for k, v in (self.config.get("env") or {}).items()}
        env.update({**node_env.for_worker(), "RAY_JOB_STOP_WAIT_TIME_S": str(STOP_GRACE_S), "PYTHONUNBUFFERED": "1"})
        if os.environ.get("WANDB_MODE"):
            env["WANDB_MODE"] = os.environ["WANDB_MODE"]
        runtime_env = {"working_dir": spec.workspace, "excludes": excludes, "env_vars": env}
        package = Path(mlws.__file__).parent
        if not (Path(spec.workspace) / "mlws").is_dir():
            # The job runs the same mlws as this machine, whatever the cluster has installed.
            runtime_env["py_modules"] = [str(package)]
        return runtime_env

    # -- running -----------------------------------------------------------------------------------
    def submit(self, spec_path: Path, *, detach: bool, prepared: dict | None = None) -> Submission:
        from ...spec import RunSpec
        from ...workspace import Workspace

        spec = RunSpec.read(spec_path)
        prepared = prepared or self.prepare(spec)
        address, local, c = prepared["address"], prepared["local"], self.config
        submission_id = f"mlws-{spec.run_id}-{uuid.uuid4().hex[:8]}"
        run_dir = prepared.get("run_dir") or (  # a resumed run: the directory it ran in
            spec.run_dir if local and not c.get("storage") else f"{str(c['storage']).rstrip('/')}/{submission_id}"
        )
        env = dict(prepared["runtime_env"]["env_vars"])
        shared = local and not c.get("storage")  # the job writes into this workspace: it records into its registry
        env.update(
            node_env.for_worker(
                run_dir=run_dir,
                spec_json=spec.to_json(),
                registry_shared=bool(shared),
                registry_url=Workspace(Path(spec.workspace)).registry_url if shared else None,
            )
        )
        runtime_env = {**prepared["runtime_env"], "env_vars": env}
        workers = int(c.get("num_workers") or 1)
        per_worker = worker_resources(c)
        python = shlex.quote(sys.executable) if local else "python"
        resources = (
            {
                "entrypoint_num_cpus": per_worker["CPU"],
                "entrypoint_num_gpus": per_worker["GPU"] or None,
                "entrypoint_memory": int(per_worker["memory"]) or None,
            }
            if workers == 1
            else {"entrypoint_num_cpus": 0}
        )  # the driver only waits; Ray Train's workers hold the resources
        env["MLWS_RAY_RETRIES"] = str(max(int(c.get("max_retries") or 0), 0))
        client = self.client(address)
        try:
            client.submit_job(
                # the job retries its worker when it is killed (mlws/compute/ray/retrying.py)
                entrypoint=f"{python} -m mlws.compute.ray.retrying",
                submission_id=submission_id,
                runtime_env=runtime_env,
                metadata={"mlws_run": str(spec.run_id)},
                **{k: v for k, v in resources.items() if v is not None},
            )
        except Exception as e:
            raise MlwsError(f"the Ray cluster at {address} refused the job: {_message(e)}") from None
        handle = {"address": address, "submission_id": submission_id, "run_dir": run_dir, "local": local}
        return Submission(
            handle=handle,
            message=f"submitted to Ray at {address} as job {submission_id}",
            run_dir=None if run_dir == spec.run_dir else run_dir,
        )

    def follow(self, handle: dict, *, out=None) -> None:
        self._follow(self.client(handle["address"]), handle["submission_id"], out)

    def _follow(self, client, submission_id: str, out=None) -> None:
        """Print the job's output until it ends; Ctrl-C stops the job, as it stops a local run."""
        import asyncio

        out = out or sys.stdout

        async def tail():
            async for lines in client.tail_job_logs(submission_id):
                out.write(lines)
                out.flush()

        try:
            asyncio.run(tail())
        except KeyboardInterrupt:
            _call(client.stop_job, submission_id, what="stop the job")
            self._wait_terminal(client, submission_id, STOP_GRACE_S + 30)
        except MlwsError:
            raise
        except Exception as e:
            raise MlwsError(f"lost the output of Ray job {submission_id}: {_message(e)}") from None

    @staticmethod
    def _wait_terminal(client, submission_id: str, timeout: float) -> str | None:
        from ..base import wait_until

        seen = {}

        def done():
            seen["s"] = str(_call(client.get_job_status, submission_id, what="read the job's status").value)
            return seen["s"] not in ("PENDING", "RUNNING")

        wait_until(done, timeout, poll_s=0.5)
        return seen.get("s")

    # -- after: status, stop, logs, files -----------------------------------------------------------
    @staticmethod
    def _handle(record: dict) -> dict:
        handle = (record.get("artifacts") or {}).get("compute") or {}
        if not handle.get("submission_id"):
            raise MlwsError(f"run {record['id']} has no Ray job recorded")
        return handle

    def _reachable_client(self, handle: dict):
        """A client for the run's cluster, after a quick health probe (Ray's client has no timeout)."""
        from .head import healthy

        if not healthy(handle["address"], timeout=5):
            raise MlwsError(f"the Ray cluster at {handle['address']} does not answer")
        return self.client(handle["address"])

    def cost(self, record: dict) -> dict:
        """Worker-hours × compute.hourly_rate (unset: worker-hours only); mlws/spend/reckon.py."""
        from ...spend.reckon import workers

        return workers(record, self.config)

    def status(self, record: dict) -> Status | None:
        handle = self._handle(record)
        client = self._reachable_client(handle)
        try:
            info = client.get_job_info(handle["submission_id"])
        except Exception as e:
            raise MlwsError(f"Ray has no job {handle['submission_id']} for run {record['id']}: {_message(e)}") from None
        state = STATUS.get(str(getattr(info.status, "value", info.status)), "running")
        if state == "running":
            return Status("running")
        result = _read_result(handle["run_dir"])
        if result.get("status") in ("succeeded", "failed", "stopped"):
            return Status(
                result["status"],
                metrics=result.get("metrics"),
                artifacts=result.get("artifacts"),
                error=result.get("error"),
                stop_reason=result.get("stop_reason"),
            )
        return Status(
            state,
            artifacts={**(record.get("artifacts") or {}), "run_dir": handle["run_dir"]},
            error=f"Ray job {handle['submission_id']}: {info.message}" if state == "failed" else None,
            stop_reason="stopped through Ray's Jobs API" if state == "stopped" else None,
        )

    def cancel(self, record: dict, *, timeout: float = 120.0) -> Status | None:
        handle = self._handle(record)
        client = self._reachable_client(handle)
        try:
            client.stop_job(handle["submission_id"])
        except Exception as e:
            raise MlwsError(f"Ray could not stop job {handle['submission_id']}: {_message(e)}") from None
        if self._wait_terminal(client, handle["submission_id"], timeout) in ("PENDING", "RUNNING", None):
            raise MlwsError(
                f"run {record['id']} (Ray job {handle['submission_id']}) did not stop within {timeout:.0f} s"
            )
        return self.status(record)

    def logs(self, record: dict, *, follow: bool = False, out=None) -> int:
        handle = self._handle(record)
        client = self._reachable_client(handle)
        out = out or sys.stdout
        if follow:
            self._follow(client, handle["submission_id"], out)
        else:
            out.write(_call(client.get_job_logs, handle["submission_id"], what="read the job's logs"))
            out.flush()
        return 0

    def resumable(self, record: dict) -> Path:
        """A run whose job ended carries on in the same run directory (this workspace's runs/N on a
        head here, or its folder in compute.storage), which this machine must see."""
        self._handle(record)
        run_dir = Path(self.artifact_root(record))
        if not run_dir.is_dir():
            raise MlwsError(f"run {record['id']}'s directory {run_dir} is not reachable from this machine")
        return run_dir

    def resume(self, record: dict, spec_path: Path, *, detach: bool, prepared: dict | None = None) -> Submission:
        """A new job for the same run, writing into its run directory: the worker finds last.ckpt."""
        from ...spec import RunSpec

        prepared = prepared or self.prepare(RunSpec.read(spec_path))
        return self.submit(spec_path, detach=detach, prepared={**prepared, "run_dir": self.artifact_root(record)})

    def down(self, workspace) -> str | None:
        from .head import stop_local_head

        if self.config.get("address"):
            return None  # a cluster someone else runs is never stopped from here
        return "stopped this workspace's local Ray head" if stop_local_head(workspace.state_dir) else None

    def artifact_root(self, record: dict) -> str:
        return ((record.get("artifacts") or {}).get("compute") or {}).get("run_dir") or record["run_dir"]

    @classmethod
    def run_fit(cls, spec, fit):
        workers = int((spec.config.get("compute") or {}).get("num_workers") or 1)
        if workers == 1:
            return fit(spec)
        from .train import fit_with_ray_train

        return fit_with_ray_train(spec, fit, workers)


def _call(fn, *args, what: str):
    try:
        return fn(*args)
    except Exception as e:
        raise MlwsError(f"Ray could not {what}: {_message(e)}") from None


def _node_resources(address: str) -> list[dict[str, float]]:
    """Each alive node's total resources, through Ray's state API."""
    from ray.util.state import list_nodes

    try:
        nodes = list_nodes(
            address=address, detail=True, raise_on_missing_output=False, filters=[("state", "=", "ALIVE")], limit=10_000
        )
    except Exception as e:
        raise MlwsError(f"cannot read the Ray cluster's resources at {address}: {_message(e)}") from None
    return [{k: float(v) for k, v in (getattr(n, "resources_total", None) or {}).items()} for n in nodes]


def _read_result(run_dir: str) -> dict:
    """The worker's result.json in a run directory this machine can read ({} when absent)."""
    import json

    path = Path(run_dir) / "result.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
