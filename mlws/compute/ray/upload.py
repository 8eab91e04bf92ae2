"""Upload the workspace as the job's working directory, before the run is recorded.

Ray zips the folder (honouring `excludes`, .gitignore and .rayignore) and refuses a package over its
gRPC message limit; its message says only the size, so ours also names the largest paths.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import MlwsError


def largest_paths(root: Path, excludes: list[str], top: int | None = 3) -> list[tuple[str, int]]:
    """The biggest top-level files and folders of `root` that are not excluded, with their bytes."""
    from ray._private.thirdparty.pathspec import PathSpec  # the matcher Ray applies to `excludes`

    spec = PathSpec.from_lines("gitwildmatch", excludes)
    sizes = []
    for entry in root.iterdir():
        rel = entry.name + ("/" if entry.is_dir() else "")
        if spec.match_file(rel):
            continue
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes.append((rel, sum(p.stat().st_size for p in files if not p.is_symlink())))
    return sorted(sizes, key=lambda s: -s[1])[:top] if top else sizes


def check_size(runtime_env: dict, workspace: Path) -> None:
    """Refuse a workspace over Ray's upload limit before anything is sent or recorded.

    Ray's dashboard enforces the limit only after the upload; here Ray's own `create_package` zips
    the folder (the same excludes) when its raw size could be over Ray's limit, and compares."""
    import tempfile

    from ray._private.ray_constants import DASHBOARD_CLIENT_MAX_SIZE
    from ray._private.runtime_env.packaging import GCS_STORAGE_MAX_SIZE, create_package

    # The dashboard refuses a request body over its client limit before GCS's own limit applies.
    limit = min(GCS_STORAGE_MAX_SIZE, DASHBOARD_CLIENT_MAX_SIZE)
    excludes = runtime_env["excludes"]
    if sum(n for _, n in largest_paths(workspace, excludes, top=None)) < limit:
        return
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp) / "workspace.zip"
        create_package(str(workspace), package, include_gitignore=True, excludes=list(excludes))
        size = package.stat().st_size
    if size >= limit:
        _too_large(workspace, excludes, f"{size / 2**20:.1f} MiB", f"{limit / 2**20:.1f} MiB")


def _too_large(workspace: Path, excludes: list[str], size: str, limit: str):
    big = ", ".join(f"{name} ({n / 2**20:.1f} MiB)" for name, n in largest_paths(workspace, excludes))
    raise MlwsError(
        f"the workspace is too large to upload to Ray ({size} zipped, over Ray's limit of {limit}); "
        f"largest: {big}. Leave data out with .rayignore or compute.excludes and read it from storage "
        "the cluster can reach"
    )


def upload_workspace(client, runtime_env: dict, workspace: Path) -> None:
    """Turn runtime_env's working_dir (and py_modules) into uploaded packages, or raise MlwsError."""
    import re

    check_size(runtime_env, workspace)
    try:
        client._upload_working_dir_if_needed(runtime_env)
        client._upload_py_modules_if_needed(runtime_env)
    except Exception as e:
        text = str(e)
        found = re.search(r"Package size \(([^)]*)\) exceeds the maximum size of ([0-9.]+ ?MiB)", text)
        if found:  # the cluster's own limit is lower than this machine's
            _too_large(workspace, runtime_env["excludes"], found.group(1), found.group(2))
        if "413" in text or "Maximum request body size" in text:
            _too_large(workspace, runtime_env["excludes"], "the package", "the dashboard's request limit")
        raise MlwsError(
            "Ray could not take the workspace as the job's working directory: "
            f"{text.strip().splitlines()[0] if text.strip() else type(e).__name__}"
        ) from None
