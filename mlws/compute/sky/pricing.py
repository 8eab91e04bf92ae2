"""SkyPilot's own checks of a compiled task, and its optimizer's price: validate (the task YAML as
`sky launch` reads it) and estimate (here, or on the team's remote API server)."""

from __future__ import annotations

import copy
import re

from ...errors import MlwsError
from .skypilot import ANSI
from .skypilot import message as _message


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
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            _start_account_lookups(task)
            dag = sky.Dag()
            dag.add(task)
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


def _start_account_lookups(task) -> None:
    """The account-dependent part of SkyPilot's catalogs started on a thread, before the optimizer
    needs it. AWS's catalog maps zones for the user's account the first time it is read: it asks
    `aws configure list` (a subprocess, ~0.5-1 s) and the account's identity (cached by SkyPilot, else
    an STS call). Asked here, it runs beside the optimizer's own imports and task checks instead of
    before its search; the optimizer then finds SkyPilot's table already mapped (SkyPilot guards it
    with a lock, so nothing is asked twice). The enabled clouds are the optimizer's first question,
    asked the same way: a refusal (no cloud enabled) is the optimizer's, raised before it starts."""
    import contextvars
    import threading

    from sky import catalog, check, clouds

    enabled = check.get_cached_enabled_clouds_or_refresh(
        capability=clouds.CloudCapability.COMPUTE, raise_if_no_cloud_access=True
    )
    requested = {str(r.cloud) for r in task.resources if r.cloud is not None}
    if not any(str(c) == "AWS" and (not requested or "AWS" in requested) for c in enabled):
        return

    def read_catalog() -> None:
        try:  # any instance type: what matters is that SkyPilot reads (and maps) its AWS table
            catalog.instance_type_exists("p3.2xlarge", clouds="aws")
        except Exception:  # the optimizer meets the same error on its own path and reports it
            pass

    # SkyPilot's per-request settings (the AWS profile of the active workspace) live in context variables
    threading.Thread(target=contextvars.copy_context().run, args=(read_catalog,), daemon=True).start()


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
