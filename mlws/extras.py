"""Optional features and the extra that installs each: `pip install mlws` trains locally with W&B,
the registry, lineage, diff, report, check and review; the rest comes with an extra. A command
that needs a missing one stops before anything is recorded, with one line naming it."""

from __future__ import annotations

import importlib.util

from .errors import MlwsError

# extra -> the modules it brings, found without importing them (top-level names where a submodule
# would import a heavy parent: ray's serve and train come with ray[serve], ray[train])
EXTRAS: dict[str, tuple[str, ...]] = {
    "ray": ("ray",),
    "sky": ("sky",),
    "serve": ("ray", "fastapi", "uvicorn"),
    "demo": ("gradio",),  # mlws serve's Gradio page; without it, the plain page
    "notebook": ("jupyterlab", "ipykernel", "pandas"),
    "sweeps": ("optuna",),
    "postgres": ("psycopg",),
    "aws": ("boto3",),
    "gcp": ("google.cloud.storage",),
    "azure": ("azure.storage.blob",),
}


def missing(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here (none: the extra is installed)."""
    return [m for m in EXTRAS[extra] if not _importable(m)]


def require(extra: str, feature: str) -> None:
    """Raise one clear line when `feature` (`compute=ray`, `mlws serve`) lacks its extra."""
    if missing(extra):
        raise MlwsError(f"{feature} needs mlws[{extra}]: pip install 'mlws[{extra}]'")


def needs(extra: str, feature: str):
    """Decorator: the function first requires `extra` (see require)."""
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def checked(*args, **kwargs):
            require(extra, feature)
            return fn(*args, **kwargs)

        return checked

    return wrap


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken install
        return False
