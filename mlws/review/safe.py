"""Composing an untrusted checkout without running it or printing a secret.

Hydra imports every module of any `hydra_plugins` package on sys.path while it composes, and
OmegaConf's `oc.env` copies the environment into the config. A pull request from a fork must be
able to do neither: the checkout leaves sys.path, `oc.env` renders a placeholder instead of the
value, only the resolvers of OmegaConf and Hydra exist, and only mlws's own classes are imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..redacted import REDACTED

# not oc.deprecated: it hands the branch's message to warnings.warn, raw
KNOWN_RESOLVERS = frozenset(
    {
        "oc.create",
        "oc.decode",
        "oc.env",
        "oc.select",
        "oc.dict.keys",
        "oc.dict.values",
        "now",
        "hydra",
        "python_version",
    }
)


def harden(root: Path) -> None:
    """Call before the first composition in this process."""
    _drop_from_sys_path(Path(root))
    _redact_env_resolver()
    _forget_unknown_resolvers()
    from .confine import hide_environment

    hide_environment()
    _warnings_shown_inert()


def _warnings_shown_inert() -> None:
    """A warning may carry a branch's text (a resolver's message): its control characters are shown."""
    import warnings

    from .inert import shown

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(shown(f"{category.__name__}: {message}") + "\n")

    warnings.showwarning = show


def runs_code_from(root: Path) -> bool:
    """Whether the running mlws is imported from inside the checkout under review (an editable
    install in the repository itself): then `git checkout <pr>` swaps in the branch's own mlws/."""
    own = Path(__file__).resolve().parents[1]
    return _inside(own, Path(root).resolve())


def trusted_target(target) -> bool:
    """Only mlws's own installed classes may be imported while checking a branch."""
    return isinstance(target, str) and target.startswith("mlws.")


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _drop_from_sys_path(root: Path) -> None:
    """No path entry at or under the checkout, nor the current folder (''), stays importable.
    What is installed (the interpreter's prefix, a .venv inside the repository) and the folder the
    running mlws comes from stay: that code already runs."""
    root = root.resolve()
    installed = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    own = Path(__file__).resolve().parents[2]
    kept = []
    for entry in sys.path:
        if entry in ("", "."):
            continue
        path = Path(entry).resolve()
        if _inside(path, root) and path != own and not any(_inside(path, p) for p in installed):
            continue
        kept.append(entry)
    sys.path[:] = kept
    os.environ.pop("PYTHONPATH", None)  # nor in anything this process starts


def _redact_env_resolver() -> None:
    from omegaconf import OmegaConf

    def redacted(key: str, default=None) -> str:
        return REDACTED.format(key)

    OmegaConf.register_new_resolver("oc.env", redacted, replace=True, use_cache=False)


def _forget_unknown_resolvers() -> None:
    """Only OmegaConf's and Hydra's own resolvers: anything else a config names is refused."""
    from omegaconf import OmegaConf
    from omegaconf.basecontainer import BaseContainer

    for name in list(BaseContainer._resolvers):
        if name not in KNOWN_RESOLVERS:
            OmegaConf.clear_resolver(name)
