"""The SkyPilot backend: compile the RunSpec into a task, validate and price it, launch, follow."""

from __future__ import annotations

from pathlib import Path

from ... import node_env
from ...errors import MlwsError
from ..base import Backend, Status, Submission
from .shared import node_wheel, price_line, upload_excludes


def _handle(record: dict) -> dict | None:
    artifacts = record.get("artifacts") or {}
    return artifacts.get("compute") or artifacts.get("cloud")  # "cloud": runs recorded before 0.2


class _OnTheLaptop:
    """mlws[sky] where runs are launched; None on a node (MLWS_REMOTE=1), whose worker runs without
    SkyPilot: the node installs only what its task needs (node_setup.py)."""

    def __get__(self, obj, owner) -> str | None:
        return None if node_env.is_remote() else "sky"


class SkyBackend(Backend):
    name = "sky"
    extra = _OnTheLaptop()

    def prepare(self, spec) -> dict:
        """Compile, validate with SkyPilot, price; raises MlwsError before anything is recorded."""
        import sys

        from .compile import secret_values
        from .preflight import priced

        secret_values(spec.config["compute"])  # fail now if a named secret is missing here
        prepared = priced(spec, price_required=True)
        upload_excludes(spec.workspace)
        for note in prepared.get("notes") or []:
            print(f"warning: {note}", file=sys.stderr)
        return prepared

    def plan(self, spec, spec_path: str | None = None) -> dict:
        """The same checks as a launch, except that secrets' values and a known price are not needed
        (`mlws check` plans a branch's experiments where neither exists)."""
        from .preflight import plan_notes, priced

        planned = priced(spec, price_required=False, spec_path=spec_path)
        planned["lines"] = [price_line(planned["estimate"])]
        planned.setdefault("notes", []).extend(plan_notes(spec, planned["estimate"]))
        if spec_path:
            from .by_hand import launch_lines

            planned["lines"] += launch_lines(
                planned["task"],
                spec.config["compute"],
                planned["estimate"],
                Path(spec_path).parent,
                name=f"mlws-{spec.run_id}",
            )
        return planned

    def submit(self, spec_path: Path, *, detach: bool, prepared: dict | None = None) -> Submission:
        from ...spec import RunSpec
        from . import client
        from .compile import compile_task, secret_values
        from .pricing import validate

        spec = RunSpec.read(spec_path)
        c = spec.config["compute"]
        task = validate(
            compile_task(spec, spec_path, node_wheel()), secrets=secret_values(c) if c.get("secrets") else None
        )
        estimate = (prepared or {}).get("estimate") or {}
        if estimate.get("available"):  # for the cost guard, which counts provisioning from the launch
            import time

            task.update_envs(
                node_env.billing_env(
                    estimate["hourly_price"], launched_at=time.time(), region_prices=estimate.get("region_prices")
                )
            )
        from .compile import job_name

        handle = client.launch(
            task,
            managed=bool(c.get("managed")),
            name=job_name(spec),
            cluster_name=c.get("cluster_name"),
            autostop_minutes=c.get("autostop_minutes"),
            progress=not detach,
        )
        kind = "managed job" if handle.get("managed") else f"job on cluster {handle.get('cluster')}"
        price = (
            f" at ${estimate['hourly_price']:.2f}/hour ({estimate['instance_type']})"
            if estimate.get("available")
            else ""
        )
        from .compile import bucket_run_url

        artifacts = {
            "estimate": estimate,
            **({"bucket_run": bucket_run_url(c["bucket"], spec)} if c.get("bucket") else {}),
        }
        return Submission(
            handle=handle, artifacts=artifacts, message=f"launched on SkyPilot as {kind} {handle['job_id']}{price}"
        )

    def follow(self, handle: dict, *, out=None) -> None:
        from . import client

        client.tail_logs(handle, follow=True)

    def status(self, record: dict) -> Status | None:
        """SkyPilot's job state; once the job has ended, the outcome the node wrote (status, metrics,
        stop reason: a run ended by its cost or time limit is `stopped`, not `succeeded`)."""
        from . import client
        from .outcome import outcome

        handle = _handle(record)
        if not handle:
            return None
        try:
            state = client.job_status(handle)
        except client.ClusterGone as gone:
            # a bucket that cannot be read (no SDK, no credentials, offline) raises: status unknown, the
            # run stays as recorded (a succeeded run is not recorded failed because a copy failed)
            result = outcome(self, record, handle, job_log=False, strict=True)
            return result or Status(
                "failed",
                artifacts=record.get("artifacts"),
                error=f"{gone} (torn down when idle) and its outcome was not kept: "
                "set compute.bucket to keep run directories",
            )
        if state == "running":
            return Status(state, artifacts=record.get("artifacts"))
        result = outcome(self, record, handle, job_log=True)
        if result and state != "stopped":
            return result
        return Status(
            state,
            metrics=result.metrics if result else None,
            artifacts=record.get("artifacts"),
            stop_reason="cancelled" if state == "stopped" else None,
        )

    def cancel(self, record: dict, *, timeout: float = 120.0) -> Status:
        from . import client

        handle = _handle(record)
        if not handle:
            raise MlwsError(f"run {record['id']} has no SkyPilot job to cancel")
        client.cancel(handle)
        return Status("stopped", artifacts=record.get("artifacts"), stop_reason="cancelled by mlws stop")

    def logs(self, record: dict, *, follow: bool = False, out=None) -> int:
        from . import client

        handle = _handle(record)
        if not handle:
            raise MlwsError(f"run {record['id']} has no SkyPilot job")
        return client.tail_logs(handle, follow=follow)

    def cost(self, record: dict) -> dict | None:
        """The node's spend ledger (copied into the record when the run ended), else wall time × the
        hourly price SkyPilot's catalog gave at launch; mlws/spend/reckon.py."""
        from ...spend.reckon import cloud

        return cloud(record)

    def artifact_root(self, record: dict) -> str:
        bucket = ((record.get("config") or {}).get("compute") or {}).get("bucket")
        if not bucket:
            raise MlwsError(
                f"run {record['id']} ran on SkyPilot without compute.bucket, so its files stayed on "
                "the cloud VM; set compute.bucket to keep run directories"
            )
        return (record.get("artifacts") or {}).get("bucket_run") or f"{bucket.rstrip('/')}/runs/{record['id']}"

    def copy(self, record: dict, path: str, dest) -> dict:
        from .artifacts import copy_from_bucket

        return copy_from_bucket(self.artifact_root(record), path, dest)

    def resumable(self, record: dict) -> str:
        """`mlws resume`: a run whose folder is in compute.bucket carries on there (resuming.py)."""
        from .resuming import has_bucket, not_still_running

        has_bucket(record)
        not_still_running(record, _handle(record))
        return self.artifact_root(record).rstrip("/")

    def last_checkpoint(self, record: dict, run_dir) -> str | None:
        from .resuming import last_checkpoint

        return last_checkpoint(str(run_dir))

    def resume(self, record: dict, spec_path: Path, *, detach: bool, prepared: dict | None = None) -> Submission:
        """A new job from the run's frozen spec: the same run id and run folder, so its worker finds
        last.ckpt there as after a spot recovery. Recorded as `mlws train` records a launch."""
        from ...spec import RunSpec
        from .resuming import same_folder, set_aside_outcome

        run_url = self.artifact_root(record).rstrip("/")
        same_folder(record, RunSpec.read(spec_path), run_url)
        set_aside_outcome(run_url)
        return self.submit(spec_path, detach=detach, prepared=prepared)

    serve_host = "0.0.0.0"  # public on the VM: its port is opened, so a token is generated

    def serve(self, record: dict, args: dict, *, workspace, dry_run: bool = False, **_) -> dict:
        """Serve on a VM (always in the background): the port opened, and a lifetime limit so no
        demo runs forever (servers.py)."""
        from .servers import serve

        return serve(self.config, record, args, workspace=workspace, dry_run=dry_run)

    def serve_down(self, state: dict, *, workspace) -> None:
        """Tear down the server's cluster, and forget the args file its task was launched with."""
        from .clusters import down

        down(state["cluster"])
        (workspace.state_dir / "serve" / f"run-{int(state['run_id'])}.cloud-args.json").unlink(missing_ok=True)

    def notebook(
        self,
        *,
        workspace,
        name: str,
        host: str,
        port: int,
        idle_minutes: float,
        token: str,
        expose: bool,
        dry_run: bool = False,
    ) -> dict:
        """JupyterLab on a VM: price first, then launch; reached through an SSH tunnel (servers.py)."""
        from .servers import notebook

        return notebook(
            self.config,
            workspace=workspace,
            name=name,
            port=port,
            idle_minutes=idle_minutes,
            token=token,
            expose=expose,
            dry_run=dry_run,
        )

    def notebook_down(self, state: dict, *, workspace) -> None:
        from .clusters import down

        down(state["cluster"])

    def notebook_status(self, state: dict, *, workspace) -> dict | None:
        """The cluster's state from SkyPilot; the idle watcher itself runs on the VM."""
        from .servers import notebook_status

        return notebook_status(state)

    @classmethod
    def setup_node(cls) -> None:
        """On a node: MASTER_ADDR, NODE_RANK, ... from SkyPilot's node variables, before anything else."""
        from .nodes import trainer_overrides

        trainer_overrides()

    @classmethod
    def run_fit(cls, spec, fit):
        """Every GPU of every node trains, with Lightning's DDP from SkyPilot's node variables."""
        from .node_run import mark_transient
        from .nodes import check_gpus, trainer_overrides

        check_gpus()  # a node whose torch cannot see its GPUs: failed, never retried
        overrides = trainer_overrides()
        billing = node_env.billing()  # the price the launch passed: the cost guard's

        def extend(pl):
            from ...training.guards import cost_guards

            guards = cost_guards(spec, pl, hourly_price=billing[0], launched_at=billing[1]) if billing else []
            return overrides, guards

        try:
            return fit(spec, extend=extend)
        except Exception as e:  # an NCCL timeout, say: node_run exits with the code SkyPilot recovers
            mark_transient(e)
            raise
