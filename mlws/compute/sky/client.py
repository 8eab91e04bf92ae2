"""SkyPilot jobs: launch a validated task (pricing.py), and follow, report and cancel its job."""

from __future__ import annotations

from ...errors import MlwsError
from .skypilot import message as _message

# SkyPilot managed-job / cluster-job states → registry status
STATUS = {
    "PENDING": "running",
    "SUBMITTED": "running",
    "STARTING": "running",
    "RUNNING": "running",
    "RECOVERING": "running",
    "CANCELLING": "running",
    "SETTING_UP": "running",
    "INIT": "running",
    "WINDING_DOWN": "running",
    "SUCCEEDED": "succeeded",
    "CANCELLED": "stopped",
    "FAILED": "failed",
    "FAILED_SETUP": "failed",
    "FAILED_PRECHECKS": "failed",
    "FAILED_NO_RESOURCE": "failed",
    "FAILED_CONTROLLER": "failed",
    "FAILED_DRIVER": "failed",
}


def launch(
    task, *, managed: bool, name: str, cluster_name: str | None, autostop_minutes: int | None, progress: bool = False
) -> dict:
    """Launch through the SkyPilot SDK (its API server); returns the job's ids. `progress`: show the
    request's own output (provisioning, setup) while it runs, as `sky launch` does."""
    import sky

    wait = sky.stream_and_get if progress else sky.get
    try:
        if managed:
            request_id = sky.jobs.launch(task, name=name)
            job_ids, _handle = wait(request_id)
            job_id = job_ids[0] if isinstance(job_ids, (list, tuple)) else job_ids
            return {"managed": True, "job_id": job_id, "request_id": str(request_id), "name": name}
        request_id = sky.launch(
            task,
            cluster_name=cluster_name or name,
            idle_minutes_to_autostop=autostop_minutes,
            down=autostop_minutes is not None,
        )  # idle: deleted, not stopped with its disk
        job_id, _handle = wait(request_id)
        return {"managed": False, "job_id": job_id, "cluster": cluster_name or name, "request_id": str(request_id)}
    except MlwsError:
        raise
    except Exception as e:
        raise MlwsError(f"SkyPilot launch failed: {_message(e)}") from None


class ClusterGone(MlwsError):
    """The run's cluster no longer exists (autostop tore it down): its job table went with it."""


def job_status(cloud: dict) -> str:
    """The registry status for a cloud run, from SkyPilot's job table. Raises MlwsError when SkyPilot
    cannot say (the caller warns and keeps the run as recorded), ClusterGone when the cluster is gone."""
    import sky
    from sky import exceptions

    try:
        if cloud.get("managed"):
            try:
                records = _managed_jobs(cloud["job_id"], refresh=False)
            except exceptions.ClusterNotUpError:
                # the jobs controller stops when idle; refresh starts that VM again to read the table,
                # which can take minutes: bounded, and said so (the start goes on on the API server)
                records = _bounded(
                    lambda: _managed_jobs(cloud["job_id"], refresh=True),
                    CONTROLLER_WAIT_S,
                    f"SkyPilot's jobs controller is stopped; starting it to read job {cloud['job_id']} "
                    f"takes longer than {CONTROLLER_WAIT_S:.0f} s: try --refresh again in a few minutes",
                )
            states = [r["status"] for r in records if r["job_id"] == cloud["job_id"]]
        else:
            statuses = sky.get(sky.job_status(cloud["cluster"], job_ids=[cloud["job_id"]]))
            states = [statuses.get(cloud["job_id"])]
    except Slow:
        raise
    except exceptions.ClusterDoesNotExist as e:
        if cloud.get("managed"):  # the jobs controller is gone, not the job: status unknown
            raise MlwsError(f"SkyPilot could not report job {cloud['job_id']}: {_message(e)}") from None
        raise ClusterGone(f"cluster {cloud.get('cluster')} no longer exists") from None
    except Exception as e:
        raise MlwsError(f"SkyPilot could not report job {cloud['job_id']}: {_message(e)}") from None
    state = getattr(states[0], "value", states[0]) if states and states[0] is not None else None
    if state is None:
        raise MlwsError(f"SkyPilot's job table has no job {cloud['job_id']}")
    name = str(state).split(".")[-1]
    if name not in STATUS:
        raise MlwsError(f"job {cloud['job_id']} is in a state mlws does not know: {name}")
    return STATUS[name]


CONTROLLER_WAIT_S = 30.0


class Slow(MlwsError):
    """A SkyPilot request that did not answer in its bound (it may still complete on the server)."""


def _bounded(call, seconds: float, message: str):
    """call() in a thread, for at most `seconds`; Slow(message) after that."""
    import threading

    out: dict = {}

    def run():
        try:
            out["value"] = call()
        except BaseException as e:  # handed to the caller's thread
            out["error"] = e

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise Slow(message)
    if "error" in out:
        raise out["error"]
    return out["value"]


def _managed_jobs(job_id: int, refresh: bool) -> list:
    import sky

    answer = sky.get(sky.jobs.queue_v2(refresh=refresh, job_ids=[job_id], fields=["job_id", "status"]))
    return answer[0] if isinstance(answer, tuple) else answer


def tail_logs(cloud: dict, follow: bool) -> int:
    import sky

    try:
        if cloud.get("managed"):
            return sky.jobs.tail_logs(job_id=cloud["job_id"], follow=follow) or 0
        return sky.tail_logs(cloud["cluster"], cloud["job_id"], follow=follow) or 0
    except Exception as e:
        raise MlwsError(f"could not read the logs from SkyPilot: {_message(e)}") from None


def log_tail(cloud: dict, lines: int = 200) -> str:
    """The last lines of the job's log, as text."""
    import io

    import sky

    out = io.StringIO()
    try:
        if cloud.get("managed"):
            sky.jobs.tail_logs(job_id=cloud["job_id"], follow=False, tail=lines, output_stream=out)
        else:
            sky.tail_logs(cloud["cluster"], cloud["job_id"], follow=False, tail=lines, output_stream=out)
    except Exception as e:
        raise MlwsError(f"could not read the logs from SkyPilot: {_message(e)}") from None
    return out.getvalue()


def cancel(cloud: dict) -> None:
    import sky

    try:
        if cloud.get("managed"):
            sky.get(sky.jobs.cancel(job_ids=[cloud["job_id"]]))
        else:
            sky.get(sky.cancel(cloud["cluster"], job_ids=[cloud["job_id"]]))
    except Exception as e:
        raise MlwsError(f"SkyPilot could not cancel job {cloud['job_id']}: {_message(e)}") from None
