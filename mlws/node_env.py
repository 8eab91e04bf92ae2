"""The node contract: the environment a backend gives the worker it starts somewhere else (a Ray job,
a SkyPilot node) and that the worker and the trainer read there. Both sides use only this module, so
a name cannot drift between the writer and the reader."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

REMOTE = "MLWS_REMOTE"  # "1": the worker runs away from the workspace that launched it
RUN_ID = "MLWS_RUN_ID"
RUN_DIR = "MLWS_RUN_DIR"  # the run directory on the node (a path there, not here)
SPEC_JSON = "MLWS_SPEC_JSON"  # the RunSpec itself, for a backend that uploads no run directory
REGISTRY_URL = "MLWS_REGISTRY_URL"
REGISTRY_SHARED = "MLWS_REGISTRY_SHARED"  # "1": a SQLite registry the node can open (the same disk)
HOURLY_PRICE = "MLWS_HOURLY_PRICE"  # what the node costs per hour, for compute.max_cost
REGION_PRICES = "MLWS_REGION_PRICES"  # JSON {"CLOUD/region": hourly price}: a recovery elsewhere's price
CLUSTER_INFO = "SKYPILOT_CLUSTER_INFO"  # SkyPilot's, on every node: JSON with the VM's cloud and region
LAUNCHED_AT = "MLWS_LAUNCHED_AT"  # unix time of the launch: provisioning and setup are billed too


def for_worker(
    *,
    run_id: int | None = None,
    run_dir: str | None = None,
    spec_json: str | None = None,
    registry_url: str | None = None,
    registry_shared: bool = False,
) -> dict[str, str]:
    """The variables a backend sets for a worker it starts elsewhere (None: left out)."""
    env = {REMOTE: "1"}
    for name, value in ((RUN_ID, run_id), (RUN_DIR, run_dir), (SPEC_JSON, spec_json), (REGISTRY_URL, registry_url)):
        if value is not None:
            env[name] = str(value)
    if registry_shared:
        env[REGISTRY_SHARED] = "1"
    return env


def billing_env(
    hourly_price: float, launched_at: float | None = None, region_prices: dict[str, float] | None = None
) -> dict[str, str]:
    """The price a backend passes to the node's cost guard (read back by `billing`)."""
    env = {HOURLY_PRICE: str(hourly_price)}
    if launched_at is not None:
        env[LAUNCHED_AT] = f"{launched_at:.0f}"
    if region_prices:
        env[REGION_PRICES] = json.dumps(region_prices, sort_keys=True, separators=(",", ":"))
    return env


def is_remote(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(REMOTE) == "1"


def run_dir(default: str, environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(RUN_DIR) or default


def run_id(environ: Mapping[str, str] = os.environ) -> str | None:
    return environ.get(RUN_ID)


def spec_json(environ: Mapping[str, str] = os.environ) -> str:
    return environ[SPEC_JSON]


def shared_registry_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """The registry a remote worker may open: a server's (PostgreSQL) always, a SQLite file only where
    the backend said the node shares this disk; None: the node writes result.json instead."""
    url = environ.get(REGISTRY_URL)
    if url and (not url.startswith("sqlite") or environ.get(REGISTRY_SHARED) == "1"):
        return url
    return None


def billing(environ: Mapping[str, str] = os.environ) -> tuple[float, float | None] | None:
    """(hourly price, launched at) where the backend priced the node; None elsewhere. The price is
    this VM's region's when the launch passed a table that has it (a spot recovery may bring the
    job up elsewhere), else the launch's."""
    price = environ.get(HOURLY_PRICE)
    if not price:
        return None
    launched = environ.get(LAUNCHED_AT)
    return _region_price(environ) or float(price), float(launched) if launched else None


def _region_price(environ: Mapping[str, str]) -> float | None:
    try:
        table = json.loads(environ.get(REGION_PRICES) or "{}")
        where = json.loads(environ.get(CLUSTER_INFO) or "{}")
        price = table.get(f"{where.get('cloud')}/{where.get('region')}")
        return float(price) if isinstance(price, (int, float)) and price > 0 else None
    except (ValueError, AttributeError, TypeError):
        return None


def is_rank_zero(environ: Mapping[str, str] = os.environ) -> bool:
    """The first process of the first node (torch's NODE_RANK and LOCAL_RANK)."""
    return environ.get("NODE_RANK", "0") == "0" and environ.get("LOCAL_RANK", "0") == "0"
