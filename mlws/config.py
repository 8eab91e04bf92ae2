"""The only module that imports Hydra: compose conf/ + experiments/ + overrides into plain dicts."""

from __future__ import annotations

import difflib
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import MlwsError
from .workspace import Workspace

EXPERIMENT_GROUP = "experiment"


@dataclass(frozen=True)
class Composed:
    """A composition's result, free of Hydra and OmegaConf types."""

    config: dict  # fully resolved, plain containers
    experiment: str | None  # the +experiment=NAME choice
    choices: dict = field(default_factory=dict)  # config group -> option, e.g. model/net -> cnn


def _searchpath_dir(ws: Workspace) -> Path:
    """A folder whose `experiment` entry links to the workspace's experiments/.

    Hydra names config groups after folders; the workspace keeps experiments in a top-level
    experiments/ folder, so a link lets `+experiment=model_12` address them.
    """
    base = ws.state_dir / "hydra"
    link = base / EXPERIMENT_GROUP
    target = ws.experiments_dir.resolve()
    if not (link.is_symlink() and Path(os.readlink(link)) == target):
        base.mkdir(parents=True, exist_ok=True)
        tmp = base / f".{EXPERIMENT_GROUP}.{os.getpid()}"
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(target, target_is_directory=True)
        os.replace(tmp, link)  # atomic, so concurrent commands never see a half-made link
    return base


def searchpath_override(ws: Workspace) -> str:
    """The experiments, then mlws's packaged blocks (after the workspace's conf/, so its files win).
    First in the overrides: Hydra takes the first `hydra.searchpath` it sees."""
    from .workspace import PACKAGED_SEARCHPATH

    return f"hydra.searchpath=[file://{_searchpath_dir(ws)},{PACKAGED_SEARCHPATH}]"


@contextmanager
def hydra_app(ws: Workspace, overrides: list[str]):
    """Hydra initialised on the workspace (for a composition or a multirun); its errors become one
    clear message."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    _check_experiment_exists(ws, overrides)
    try:
        with initialize_config_dir(config_dir=str(ws.conf_dir), version_base="1.3", job_name="mlws"):
            yield GlobalHydra.instance().hydra
    except OverrideParseException as e:
        raise MlwsError(f"cannot parse override: {_first_line(e)}") from None
    except (HydraException, OmegaConfBaseException) as e:
        raise MlwsError(_explain_hydra_error(str(e), ws, overrides)) from None


def compose_raw(ws: Workspace, overrides: list[str]):
    """Hydra's DictConfig (with the `hydra` node) for these overrides; raises MlwsError."""
    from hydra import compose

    with hydra_app(ws, overrides):
        try:
            return compose(
                config_name="config", overrides=[searchpath_override(ws), *overrides], return_hydra_config=True
            )
        except KeyError as e:  # Hydra reads hydra.job.env_copy's variables with os.environ[...]
            raise MlwsError(f"environment variable {e} is not set (named in hydra.job.env_copy)") from None


def compose(ws: Workspace, overrides: list[str]) -> Composed:
    """Compose and resolve every interpolation once, here, on the launching machine."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    cfg = compose_raw(ws, overrides)
    choices = {
        k: v
        for k, v in OmegaConf.to_container(cfg.hydra.runtime.choices).items()
        if not k.startswith("hydra/") and v is not None
    }
    experiment = choices.pop(EXPERIMENT_GROUP, None)
    from omegaconf import open_dict

    with open_dict(cfg):
        del cfg["hydra"]
    try:
        plain = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as e:
        raise MlwsError(f"config cannot be resolved: {_resolution_problem(e)}") from None
    return Composed(config=plain, experiment=experiment, choices=choices)


def package_header(text: str) -> str | None:
    """A config file's `# @package` header as Hydra reads it (its own parser, first 512 characters)."""
    from hydra.plugins.config_source import ConfigSource

    return ConfigSource._get_header_dict(text[:512]).get("package")


def _check_experiment_exists(ws: Workspace, overrides: list[str]) -> None:
    for o in overrides:
        m = re.fullmatch(r"\+{0,2}experiment=(.*)", o)
        if not m:
            continue
        name = m.group(1).removesuffix(".yaml")
        if not (ws.experiments_dir / f"{name}.yaml").is_file():
            known = ws.experiment_names()
            hint = difflib.get_close_matches(name, known, n=1)
            msg = f"experiment '{name}' not found: no file {ws.experiments_dir / (name + '.yaml')}"
            if hint:
                msg += f"; did you mean '{hint[0]}'?"
            elif known:
                msg += f" (have: {', '.join(known)})"
            raise MlwsError(msg)


def _explain_hydra_error(message: str, ws: Workspace, overrides: list[str]) -> str:
    """Hydra's message, plus a "did you mean" for an unknown key in an override."""
    first = message.strip().splitlines()[0] if message.strip() else message
    m = re.search(r"Could not override '([^']+)'", message) or re.search(r"Key '([^']+)' is not in struct", message)
    if m:
        key = m.group(1)
        known = _known_keys(ws, [o for o in overrides if _chooses_a_group(ws, o)])
        hint = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        msg = f"unknown key '{key}' in command-line override"
        if hint:
            msg += f"; did you mean '{hint[0]}'?"
        return msg + f" (to add a new key, write +{key}=...)"
    if "Could not find" in message or "Could not load" in message:
        text = " ".join(message.split("Config search path")[0].split())
        if "hydra/sweeper" in text:
            text += " (sweepers: basic, the grid; optuna; mlws_random)"
        return text
    return first


_EXPLAINING: set = set()


def _chooses_a_group(ws: Workspace, override: str) -> bool:
    """`model=lit`, `+experiment=model_12`: an override that picks a building block, not a key."""
    key = override.lstrip("+~").split("=", 1)[0]
    return "=" in override and (key == EXPERIMENT_GROUP or ws.is_group(key))


def _known_keys(ws: Workspace, choices: list[str] = ()) -> list[str]:
    """Every key of the building blocks these group choices select (for "did you mean"); [] when
    they do not compose either."""
    from .flatten import flatten

    if ws.root in _EXPLAINING:  # composing the blocks failed the same way: no endless retry
        return []
    _EXPLAINING.add(ws.root)
    try:
        return list(flatten(compose(ws, list(choices)).config))
    except MlwsError:
        return []
    finally:
        _EXPLAINING.discard(ws.root)


def _resolution_problem(e: Exception) -> str:
    import re

    m = re.search(r"Unsupported interpolation type (\S+)", str(e))
    if m:  # a resolver that nothing registered (mlws registers none of a branch's own)
        return f"unknown interpolation resolver '{m.group(1)}' (known: OmegaConf's oc.* and Hydra's); {_first_line(e)}"
    return _first_line(e)


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
