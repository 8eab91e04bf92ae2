"""A wheel of the mlws that is running here, for the node to install: the node must run the same
mlws as the laptop (there may be no `mlws` on the package index, or another one under that name),
and a workspace's own pyproject need not depend on it.

Built from the imported package's files (an editable checkout or an installed wheel alike), with the
installed distribution's metadata (its dependencies), and cached by content under ~/.cache/mlws.
"""
from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from importlib import metadata
from pathlib import Path

# the packages a wheel of mlws carries: mlws itself and its Hydra launcher plugin
PACKAGES = ("mlws", "hydra_plugins/mlws_launcher")
SKIP = ("__pycache__", ".pyc")


def _root() -> Path:
    import mlws
    return Path(mlws.__file__).resolve().parent.parent


def _files() -> list[tuple[str, Path]]:
    root = _root()
    out = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and not any(part in SKIP or part.endswith(SKIP) for part in path.parts):
                out.append((path.relative_to(root).as_posix(), path))
    return out


def _requirements(root: Path) -> tuple[list[str], str | None]:
    """(Requires-Dist lines, Requires-Python): from the checkout's pyproject.toml when mlws runs from
    one (an editable install's metadata is as old as its last `pip install -e`), else as installed."""
    project = root / "pyproject.toml"
    if project.is_file():
        import tomllib
        table = tomllib.loads(project.read_text()).get("project") or {}
        if table.get("name") == "mlws":
            reqs = list(table.get("dependencies") or [])
            reqs += [f'{r}; extra == "{extra}"' for extra, rs in (table.get("optional-dependencies") or {}).items()
                     for r in rs]
            return reqs, table.get("requires-python")
    dist = metadata.distribution("mlws")
    return list(dist.requires or []), dist.metadata["Requires-Python"]


def _metadata(version: str, root: Path) -> str:
    reqs, python = _requirements(root)
    lines = ["Metadata-Version: 2.1", "Name: mlws", f"Version: {version}"] + [f"Requires-Dist: {r}" for r in reqs]
    return "\n".join(lines + ([f"Requires-Python: {python}"] if python else [])) + "\n"


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build(cache: Path | None = None) -> Path:
    """The wheel's path (built once per content: a second launch of the same code reuses it)."""
    version = metadata.version("mlws")
    files = [(name, path.read_bytes()) for name, path in _files()]
    files.append(("mlws-metadata", _metadata(version, _root()).encode()))  # part of the content key
    content = hashlib.sha256(b"".join(name.encode() + b"\0" + data for name, data in files)).hexdigest()[:16]
    cache = Path(cache or os.environ.get("MLWS_CACHE_DIR") or Path.home() / ".cache" / "mlws") / "wheels" / content
    wheel = cache / f"mlws-{version}-py3-none-any.whl"
    if wheel.is_file():
        return wheel
    info = f"mlws-{version}.dist-info"
    meta = files.pop()[1]
    files += [(f"{info}/METADATA", meta),
              (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: mlws\nRoot-Is-Purelib: true\nTag: py3-none-any\n")]
    record = "".join(f"{name},{_digest(data)},{len(data)}\n" for name, data in files) + f"{info}/RECORD,,\n"
    cache.mkdir(parents=True, exist_ok=True)
    tmp = wheel.with_suffix(f".{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files + [(f"{info}/RECORD", record.encode())]:
            z.writestr(name, data)
    os.replace(tmp, wheel)  # a reader never sees half a wheel
    return wheel
