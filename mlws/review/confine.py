"""What Hydra itself may reach during a review: config files inside the reviewed copy, or inside
the config source it was asked of (an installed package's own configs), and no environment.

The sandbox refuses what a branch's text says (`..`, interpolations in defaults entries), but Hydra
resolves a defaults entry before it opens the file, so text checks alone can be got round. This
checks the paths Hydra itself resolves: its file config source, and its package source, whose
`importlib.resources` paths would follow a `..` out of the package too.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

_ROOTS: list[Path] = []


def confine(*roots: Path) -> None:
    """From now on in this process (and its forked workers), Hydra may open files under roots only."""
    _ROOTS[:] = [Path(r).resolve() for r in roots]
    _install()


def inside(path: str | Path, roots: list[Path]) -> bool:
    """Pure: whether a resolved path lies at or under one of roots."""
    p = Path(os.path.realpath(path))
    return any(p == r or r in p.parents for r in roots)


def climbs(config_path: str) -> bool:
    """Pure: a config path that is absolute or has a `..` part. One that does neither stays under
    its source's folder by its letters alone: the reviewed copy holds no symbolic link a branch made
    (sandbox.py copies regular files only), so only such paths need resolving (Hydra probes
    thousands of paths per composition)."""
    parts = PurePosixPath(config_path.replace("\\", "/")).parts
    return config_path.startswith(("/", "\\")) or ".." in parts


def _refusal(config_path: str):
    from hydra.plugins.config_source import ConfigLoadError

    return ConfigLoadError(f"config '{config_path}' resolves outside the reviewed configs; refused")


def _install() -> None:
    # Hydra's plugin scan executes its core modules again, making new source classes: guard the
    # classes its registry resolves after that scan, not the ones an import would give.
    from hydra._internal.sources_registry import SourcesRegistry
    from hydra.core.plugins import Plugins

    Plugins.instance()
    file_source, package_source = (SourcesRegistry.instance().resolve(s) for s in ("file", "pkg"))
    if getattr(file_source, "_mlws_confined", False):
        return

    def file_guard(method, normalize: bool):
        def guarded(self, config_path, *args, **kwargs):
            name = self._normalize_file_name(config_path) if normalize else config_path
            if not climbs(name):
                return method(self, config_path, *args, **kwargs)
            # its own folder (a config source never climbs out of it), or the reviewed copy (the
            # experiments are reached through a link from mlws's own source)
            if not inside(os.path.join(self.path, name), [*_ROOTS, Path(os.path.realpath(self.path))]):
                raise _refusal(config_path)
            return method(self, config_path, *args, **kwargs)

        return guarded

    def package_guard(method):
        def guarded(self, config_path, *args, **kwargs):
            if climbs(config_path):  # importlib.resources would follow it out of the package
                raise _refusal(config_path)
            return method(self, config_path, *args, **kwargs)

        return guarded

    for name, normalize in (("load_config", True), ("is_config", True), ("is_group", False), ("list", False)):
        setattr(file_source, name, file_guard(getattr(file_source, name), normalize))
        setattr(package_source, name, package_guard(getattr(package_source, name)))
    file_source._mlws_confined = True


class _NoEnvironment:
    """Stands in for `os` inside Hydra's config loader: `hydra.job.env_copy`, however a branch
    reaches it, finds no variable to copy (every one reads as unset, so none can be told apart)."""

    environ: dict = {}

    def __getattr__(self, name):
        return getattr(os, name)


def hide_environment() -> None:
    import hydra._internal.config_loader_impl as loader

    loader.os = _NoEnvironment()
