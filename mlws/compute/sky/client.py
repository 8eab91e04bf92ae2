"""The only module that imports sky: validate, price, launch, follow and cancel SkyPilot tasks."""

from __future__ import annotations

import copy
import re
import sys

from ...errors import MlwsError

# SkyPilot imports jsonschema, which compiles ~40 lark grammars at import when rfc3987-syntax (a
# JupyterLab dependency) is installed: ~1 s of every cloud command, for IRI format checks that
# SkyPilot's schema validation never runs (it passes no format checker).
sys.modules.setdefault("rfc3987_syntax", None)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
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


def _message(e: BaseException) -> str:
    text = ANSI.sub("", str(e)).strip()
    return text.splitlines()[0] if text else type(e).__name__


def validate(task_config: dict, secrets: dict | None = None):
    """A sky.Task built by SkyPilot's own YAML validation (which empties the dict: we pass a copy).
    `secrets`: values for the task's named secrets, given the way `sky launch --secret` gives them
    (a secret left null is a managed-secret reference in SkyPilot 0.14, refused at launch)."""
    import sky

    try:
        return sky.Task.from_yaml_config(
            copy.deepcopy(task_config), secrets_overrides=list((secrets or {}).items()) or None
        )
    except Exception as e:
        raise MlwsError(f"SkyPilot rejects the task: {_message(e)}") from None


def estimate(task, max_runtime_minutes: float | None = None) -> dict:
    """The optimizer's choice and its hourly price, from SkyPilot's catalog (run here; else on the
    team's remote API server).

    Raises MlwsError when no offering matches (an unknown accelerator, say); returns
    {"available": False, "reason": ...} when the catalog or cloud access is missing.
    """
    import sky
    from sky import exceptions, optimizer
    from sky.server import common as server_common

    if not server_common.is_api_server_local():  # a team's server: its clouds, not this machine's, decide
        return _with_runtime_cost(_estimate_on_server(task), max_runtime_minutes)
    dag = sky.Dag()
    dag.add(task)
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            optimizer.Optimizer.optimize(dag, quiet=True)
    except exceptions.ResourcesUnavailableError as e:
        raise _no_offering(task, e) from None
    except Exception as e:  # no catalog offline, no cloud enabled: plan still prints the task
        return {"available": False, "reason": _message(e)}
    best = task.best_resources
    out = {
        "available": True,
        "cloud": str(best.cloud),
        "region": best.region,
        "instance_type": best.instance_type,
        "accelerators": best.accelerators,
        "use_spot": bool(best.use_spot),
        "num_nodes": task.num_nodes,
        "hourly_price": round(float(best.get_cost(3600)) * task.num_nodes, 4),
    }
    prices = region_prices(best, task.num_nodes)
    if prices:
        out["region_prices"] = prices
    return _with_runtime_cost(out, max_runtime_minutes)


MAX_REGIONS = 64  # the table travels in the task's envs


def region_prices(best, num_nodes: int) -> dict[str, float]:
    """{"CLOUD/region": hourly price for all nodes} of the chosen instance type in every region the
    catalog offers it: a spot recovery may bring the job up in another region (EAGER_NEXT_REGION),
    and the node prices its own time from this table. Empty when the catalog cannot say."""
    from sky import catalog

    cloud = str(best.cloud)
    try:
        regions = catalog.get_region_zones_for_instance_type(
            best.instance_type, bool(best.use_spot), clouds=cloud.lower()
        )
        prices = {
            f"{cloud}/{r.name}": round(
                float(
                    catalog.get_hourly_cost(best.instance_type, bool(best.use_spot), r.name, None, clouds=cloud.lower())
                )
                * num_nodes,
                4,
            )
            for r in regions[:MAX_REGIONS]
        }
    except Exception:  # a catalog without the instance's regions: the launch price stands for all
        return {}
    return prices


def _with_runtime_cost(out: dict, max_runtime_minutes: float | None) -> dict:
    if out.get("available") and max_runtime_minutes:
        out["max_runtime_cost"] = round(out["hourly_price"] * max_runtime_minutes / 60.0, 4)
    return out


def _estimate_on_server(task) -> dict | None:
    """The price from SkyPilot's optimizer on the team's remote API server (sky.optimize): its clouds
    are the ones enabled there. It answers with the optimizer's table; the chosen row is the plan."""
    import io

    import sky
    from sky import exceptions

    dag = sky.Dag()
    dag.add(task)
    table = io.StringIO()
    try:
        sky.stream_and_get(sky.optimize(dag), output_stream=table)
    except exceptions.ResourcesUnavailableError as e:
        raise _no_offering(task, e) from None
    except Exception as e:
        return {"available": False, "reason": f"the API server could not price it: {_message(e)}"}
    return chosen_row(ANSI.sub("", table.getvalue()), task.num_nodes) or {
        "available": False,
        "reason": "the API server's optimizer printed no chosen offering",
    }


def api_server_is_remote() -> bool:
    """A team's API server (not one on this machine): it writes no ~/.ssh/config entries here."""
    from sky.server import common as server_common

    return not server_common.is_api_server_local()


def chosen_row(table: str, num_nodes: int) -> dict | None:
    """The optimizer table's chosen (✔) row as an estimate; COST is per hour for all nodes."""
    lines = table.splitlines()
    header = next((line for line in lines if "INSTANCE" in line and "COST" in line), None)
    row = next((line for line in lines if "\u2714" in line), None)
    if header is None or row is None:
        return None
    cells = dict(zip(re.split(r"\s{2,}", header.strip()), re.split(r"\s{2,}", row.strip())))
    infra = re.match(r"(\S+)(?: \(([^)/]+))?", cells.get("INFRA", ""))
    instance = cells.get("INSTANCE", "")
    try:
        hourly = float(cells.get("COST ($)", ""))
    except ValueError:
        return None
    gpus = cells.get("GPUS", "-")
    return {
        "available": True,
        "cloud": infra.group(1) if infra else None,
        "region": infra.group(2) if infra else None,
        "instance_type": instance.replace("[Spot]", "").strip(),
        "use_spot": "[Spot]" in instance,
        "accelerators": None if gpus in ("-", "") else gpus,
        "num_nodes": num_nodes,
        "hourly_price": hourly,
        "priced_by": "api server",
    }


def _no_offering(task, error) -> MlwsError:
    accelerators = ", ".join(str(r.accelerators) for r in task.resources) or "none"
    return MlwsError(f"no cloud offering matches compute (accelerators={accelerators}): {_message(error)}")


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


def launch_server(task, cluster_name: str, port: int) -> dict:
    """Launch a serving cluster and return its public URL for the port."""
    import sky

    try:
        request_id = sky.launch(task, cluster_name=cluster_name)
        job_id, _handle = sky.get(request_id)
        endpoints = sky.get(sky.endpoints(cluster_name, port))
    except Exception as e:
        raise MlwsError(f"SkyPilot could not launch the server: {_message(e)}") from None
    endpoint = endpoints.get(port) or endpoints.get(str(port)) if isinstance(endpoints, dict) else None
    url = endpoint if endpoint and endpoint.startswith("http") else f"http://{endpoint}" if endpoint else None
    return {"cluster": cluster_name, "job_id": job_id, "url": url}


def launch_notebook(task, cluster_name: str, port: int | None) -> dict:
    """Launch a notebook cluster (detached: the job is the Jupyter server); its URL when exposed."""
    import sky

    try:
        request_id = sky.launch(task, cluster_name=cluster_name)
        job_id, _handle = sky.get(request_id)
        endpoint = None
        if port is not None:
            endpoints = sky.get(sky.endpoints(cluster_name, port))
            endpoint = endpoints.get(port) or endpoints.get(str(port)) if isinstance(endpoints, dict) else None
    except Exception as e:
        raise MlwsError(f"SkyPilot could not launch the notebook: {_message(e)}") from None
    url = endpoint if endpoint and str(endpoint).startswith("http") else f"http://{endpoint}" if endpoint else None
    return {"job_id": job_id, "url": url}


def down(cluster_name: str) -> None:
    """Tear a cluster down (its VM and disk; buckets stay). One already gone is fine."""
    import sky
    from sky import exceptions

    try:
        sky.get(sky.down(cluster_name))
    except exceptions.ClusterDoesNotExist:
        pass  # autostop already tore it down
    except Exception as e:
        raise MlwsError(f"SkyPilot could not tear down {cluster_name}: {_message(e)}") from None


def cluster_state(cluster_name: str) -> str | None:
    """The cluster's status (UP, STOPPED, INIT), or None when it no longer exists."""
    import sky

    try:
        records = sky.get(sky.status(cluster_names=[cluster_name])) or []
    except Exception as e:
        raise MlwsError(f"SkyPilot could not report on {cluster_name}: {_message(e)}") from None
    for record in records:
        name = record.get("name") if isinstance(record, dict) else getattr(record, "name", None)
        if name == cluster_name:
            status = record.get("status") if isinstance(record, dict) else getattr(record, "status", None)
            return getattr(status, "value", None) or str(status)
    return None
