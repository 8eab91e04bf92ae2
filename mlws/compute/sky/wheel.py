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


def _files(root: Path) -> list[tuple[str, Path]]:
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
            for extra, rs in (table.get("optional-dependencies") or {}).items():
                for r in rs:
                    req, _, marker = r.partition(";")
                    when = f'({marker.strip()}) and extra == "{extra}"' if marker.strip() else f'extra == "{extra}"'
                    reqs.append(f"{req.strip()}; {when}")
            extras = list(table.get("optional-dependencies") or {})
            return reqs, table.get("requires-python"), extras, dict(table.get("scripts") or {})
    dist = metadata.distribution("mlws")
    scripts = {e.name: e.value for e in dist.entry_points if e.group == "console_scripts"}
    return (
        list(dist.requires or []),
        dist.metadata["Requires-Python"],
        dist.metadata.get_all("Provides-Extra") or [],
        scripts,
    )


def _metadata(version: str, requirements: tuple) -> tuple[str, str]:
    """(METADATA, entry_points.txt): the `mlws` command exists on the node too."""
    reqs, python, extras, scripts = requirements
    lines = ["Metadata-Version: 2.1", "Name: mlws", f"Version: {version}"] + [f"Provides-Extra: {e}" for e in extras]
    lines += [f"Requires-Dist: {r}" for r in reqs] + ([f"Requires-Python: {python}"] if python else [])
    entry_points = "[console_scripts]\n" + "".join(f"{name} = {target}\n" for name, target in scripts.items())
    return "\n".join(lines) + "\n", entry_points


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build(cache: Path | None = None) -> Path:
    """The wheel's path (built once per content: a second launch of the same code reuses it)."""
    root = _root()
    files = [(name, path.read_bytes()) for name, path in _files(root)]
    requirements = _requirements(root)
    content = hashlib.sha256(
        b"".join(name.encode() + b"\0" + data for name, data in files) + repr(requirements).encode()
    ).hexdigest()[:16]
    # the content in the version: a node (or a reused cluster) with an older build of the same
    # release reinstalls it; pip keeps an installed wheel of an equal version
    version = f"{metadata.version('mlws').split('+')[0]}+{content}"
    cache = Path(cache or os.environ.get("MLWS_CACHE_DIR") or Path.home() / ".cache" / "mlws") / "wheels" / content
    wheel = cache / f"mlws-{version}-py3-none-any.whl"
    if wheel.is_file():
        return wheel
    info = f"mlws-{version}.dist-info"
    meta, entry_points = _metadata(version, requirements)
    files += [
        (f"{info}/METADATA", meta.encode()),
        (f"{info}/entry_points.txt", entry_points.encode()),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: mlws\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = "".join(f"{name},{_digest(data)},{len(data)}\n" for name, data in files) + f"{info}/RECORD,,\n"
    cache.mkdir(parents=True, exist_ok=True)
    tmp = wheel.with_suffix(f".{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files + [(f"{info}/RECORD", record.encode())]:
            z.writestr(name, data)
    os.replace(tmp, wheel)  # a reader never sees half a wheel
    return wheel
