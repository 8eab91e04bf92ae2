"""The clusters mlws keeps itself (a model server, a JupyterLab): launched with a port, asked for
their state, torn down."""

from __future__ import annotations

from ...errors import MlwsError
from .skypilot import message as _message


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
