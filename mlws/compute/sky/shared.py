"""Small pieces the SkyPilot backend and its servers share: a price line, the upload's excludes, the
node's wheel."""

from __future__ import annotations

from pathlib import Path


def price_line(estimate: dict) -> str:
    if not estimate.get("available"):
        return f"price unavailable: {estimate['reason']}"
    line = (
        f"chosen: {estimate['cloud']} {estimate['instance_type']} in {estimate['region']}"
        f"{' (spot)' if estimate['use_spot'] else ''} × {estimate['num_nodes']} node(s): "
        f"${estimate['hourly_price']:.2f}/hour"
    )
    if "max_runtime_cost" in estimate:
        line += f", at most ${estimate['max_runtime_cost']:.2f} for the time limit"
    return line


def upload_excludes(workspace) -> None:
    """A workspace outside git without .skyignore: write one, and say so (SkyPilot would upload it all)."""
    import sys

    from .workdir import ensure_skyignore

    warning = ensure_skyignore(workspace)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def node_wheel() -> Path:
    """This machine's mlws as a wheel for the node to install (built once per content)."""
    from .wheel import build

    return build()
