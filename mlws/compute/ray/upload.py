"""Upload the workspace as the job's working directory, before the run is recorded.

Ray zips the folder (honouring `excludes`, .gitignore and .rayignore) and refuses a package over its
gRPC message limit; its message says only the size, so ours also names the largest paths.
"""
from __future__ import annotations

from pathlib import Path

from ...errors import MlwsError


def largest_paths(root: Path, excludes: list[str], top: int = 3) -> list[tuple[str, int]]:
    """The biggest top-level files and folders of `root` that are not excluded, with their bytes."""
    from pathspec import PathSpec
    spec = PathSpec.from_lines("gitwildmatch", excludes)
    sizes = []
    for entry in root.iterdir():
        rel = entry.name + ("/" if entry.is_dir() else "")
        if spec.match_file(rel):
            continue
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes.append((rel, sum(p.stat().st_size for p in files if not p.is_symlink())))
    return sorted(sizes, key=lambda s: -s[1])[:top]


def upload_workspace(client, runtime_env: dict, workspace: Path) -> None:
    """Turn runtime_env's working_dir (and py_modules) into uploaded packages, or raise MlwsError."""
    try:
        client._upload_working_dir_if_needed(runtime_env)
        client._upload_py_modules_if_needed(runtime_env)
    except Exception as e:
        text = str(e)
        if "exceeds the maximum size" not in text:
            raise MlwsError(f"Ray could not take the workspace as the job's working directory: "
                            f"{text.strip().splitlines()[0] if text.strip() else type(e).__name__}") from None
        size = text.split("Package size (")[1].split(")")[0] if "Package size (" in text else "the package"
        limit = text.split("maximum size of ")[1].split(".")[0] if "maximum size of " in text else "Ray's limit"
        big = ", ".join(f"{name} ({n / 2 ** 20:.1f} MiB)" for name, n in largest_paths(workspace, runtime_env["excludes"]))
        raise MlwsError(f"the workspace is too large to upload to Ray ({size} zipped, over {limit}); largest: {big}. "
                        "Leave data out with .rayignore or compute.excludes and read it from storage the cluster "
                        "can reach") from None
