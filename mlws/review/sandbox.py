"""What a branch's configs may do while they are checked: only describe configs.

Composition runs on a private copy of conf/ and experiments/ holding regular files only (a
symbolic link could point anywhere on the machine), and a file is refused when it could make
Hydra read outside that copy or into the environment, or could keep the review busy:
- a defaults entry with `..` or an interpolation (Hydra resolves `${now:.}${now:.}` to `..`
  before it joins the entry onto the config folder and opens it);
- anything that writes Hydra's own settings: a `# @package hydra…` header, a defaults entry with
  a `hydra/…` group (other than the sweeper) or an `@hydra…` package, a conf/hydra/ folder, and the
  keys Hydra acts on while composing (`hydra.searchpath`: a `pkg://` entry imports a module;
  `hydra.job.env_copy`: reads the environment);
- YAML that nests too deep or expands too far (yaml_bounds.py).
Beneath these text rules, confine.py checks every path Hydra really opens.
A refused file is left out of the copy and reported as (path, reason).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

COMPOSED_DIRS = ("conf", "experiments")  # what composition reads
MAX_FILE_BYTES = 1_000_000
# Keys under `hydra:` that Hydra acts on while composing (or that only Hydra writes).
HYDRA_KEYS_REFUSED = {
    "searchpath": "hydra.searchpath adds config sources (a pkg:// one imports a module)",
    "runtime": "hydra.runtime is Hydra's own record of the run",
    "overrides": "hydra.overrides is Hydra's own record of the command line",
    "callbacks": "hydra.callbacks instantiates classes",
}
ALLOWED_HYDRA_GROUPS = ("hydra/sweeper",)  # an installed sweeper, e.g. `override /hydra/sweeper: optuna`

Problem = tuple[str, str]  # (path relative to the workspace, reason)


def private_copy(src_root: Path, dest_root: Path) -> list[Problem]:
    """Copy src_root's conf/ and experiments/ into dest_root as regular files; returns problems."""
    problems: list[Problem] = []
    for part in COMPOSED_DIRS:
        base = src_root / part
        if base.is_symlink():
            problems.append((f"{part}/", "a symbolic link; not read"))
            continue
        for folder, dirs, files in os.walk(base):
            here = Path(folder)
            for d in list(dirs):
                rel = f"{(here / d).relative_to(src_root)}/"
                reason = "a symbolic link; not read" if (here / d).is_symlink() else _folder_problem(rel)
                if reason:
                    problems.append((rel, reason))
                    dirs.remove(d)
            for name in files:
                path = here / name
                rel = str(path.relative_to(src_root))
                if path.is_symlink() or not path.is_file():
                    problems.append((rel, "a symbolic link; not read"))
                elif name_problem(rel):
                    problems.append((rel, name_problem(rel)))
                elif path.stat().st_size > MAX_FILE_BYTES:
                    problems.append((rel, f"over {MAX_FILE_BYTES} bytes; not read"))
                else:
                    (dest_root / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest_root / rel)
    return problems + refuse_unsafe(dest_root)


EXPERIMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")  # goes into `+experiment=NAME` unquoted


def name_problem(rel: str) -> str | None:
    """Pure: an experiment file whose name Hydra would read as something else (`42` an int,
    `${now:%Y}` an interpolation, a space or newline a second override)."""
    path = Path(rel)
    if path.parts[:1] == ("experiments",) and path.suffix == ".yaml" and not EXPERIMENT_NAME.fullmatch(path.stem):
        return "not an experiment name (letters, digits, _ and -, not starting with a digit); not read"
    return None


def _folder_problem(rel: str) -> str | None:
    """rel: 'conf/model/' style."""
    name = rel.rstrip("/").rsplit("/", 1)[-1]
    if "." in name:  # Hydra would read `a.b=...` overrides as choices of such a group
        return "not a config group name; not read"
    if rel == "conf/hydra/":
        return "Hydra's own config groups come from Hydra and its installed plugins; not read"
    return None


def refuse_unsafe(root: Path) -> list[Problem]:
    """Delete (and name) each file under root that could reach outside the copy or the
    environment, or hide the review (too big, too deep, expanding too far)."""
    problems: list[Problem] = []
    for part in COMPOSED_DIRS:
        if not (root / part).is_dir():
            continue
        for folder in sorted((root / part).rglob("*")):
            rel = f"{folder.relative_to(root)}/"
            if folder.is_dir() and folder.exists() and _folder_problem(rel):
                problems.append((rel, _folder_problem(rel)))
                shutil.rmtree(folder)
        for path in sorted((root / part).rglob("*.yaml")):
            reason = name_problem(str(path.relative_to(root))) or _file_problem(path)
            if reason:
                problems.append((str(path.relative_to(root)), reason))
                path.unlink()
    return problems


def _file_problem(path: Path) -> str | None:
    import yaml

    from ..yaml_read import read_yaml
    from .yaml_bounds import yaml_bound_problem

    if path.stat().st_size > MAX_FILE_BYTES:
        return f"over {MAX_FILE_BYTES} bytes; not read"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # composing it reports the encoding error
    bounded = yaml_bound_problem(text)
    if bounded:
        return f"{bounded}; refused"
    try:
        header_package = _header_package(text)
        data = read_yaml(text)
    except yaml.YAMLError:
        return None  # composing it reports the syntax error, with its line
    except ValueError as e:
        return f"{e}; refused"
    reason = _targets_hydra(header_package) and f"its `# @package {header_package}` header writes Hydra's own settings"
    reason = reason or unsafe_reason(data) or (path.name == "schema.yaml" and schema_problem(data))
    return reason and f"{reason}; refused"


def schema_problem(data) -> str | None:
    """Pure: why a schema.yaml cannot be used (every experiment is validated against it, so a
    broken one is refused alone and the experiments are checked against mlws's own ranges)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        return "a schema must map keys to range rules"
    for key, rule in data.items():
        if not isinstance(rule, dict):
            return f"{key}: a range rule must be a mapping (min, max, gt, lt or choices), got {rule!r}"
    return None


def _header_package(text: str) -> str | None:
    from ..config import package_header

    try:
        return package_header(text)
    except ValueError as e:
        raise ValueError(f"bad header: {e}") from None


def unsafe_reason(data) -> str | None:
    """Pure: why a config file's data may not be composed during review, or None."""
    if not isinstance(data, dict):
        return None
    for entry in data.get("defaults") or []:
        words = (
            [entry]
            if isinstance(entry, str)
            else ([str(k) for k in entry] + [str(v) for v in _values(entry)] if isinstance(entry, dict) else [])
        )
        for word in words:
            reason = _defaults_word_problem(word)
            if reason:
                return f"defaults entry {word!r} {reason}"
    hydra = data.get("hydra")
    if "hydra" in data and not isinstance(hydra, dict):
        return "`hydra:` must be a mapping of Hydra's settings"
    for key, reason in HYDRA_KEYS_REFUSED.items():
        if isinstance(hydra, dict) and key in hydra:
            return reason
    if isinstance(hydra, dict) and isinstance(hydra.get("job"), dict) and "env_copy" in hydra["job"]:
        return "hydra.job.env_copy copies environment variables into the config"
    return None


def _defaults_word_problem(word: str) -> str | None:
    if "${" in word:
        return "uses an interpolation (Hydra resolves it before opening a file)"
    if ".." in word:
        return "reaches outside the config folder"
    # Hydra's keywords come in any order (`optional override /hydra/x`): the group is the last word
    name = word.split()[-1] if word.split() else ""
    group, _, package = name.lstrip("/").partition("@")
    if group.startswith("hydra.") or _targets_hydra(package):
        return "sets Hydra's own settings"
    if (group == "hydra" or group.startswith("hydra/")) and group not in ALLOWED_HYDRA_GROUPS:
        return "sets Hydra's own settings"
    return None


def _targets_hydra(package: str | None) -> bool:
    """A package path that lands in the `hydra` node (`hydra.job`, `_global_.hydra`, and
    `x._global_.hydra.job`: Hydra keeps only what follows the last `_global_`)."""
    if not package:
        return False
    package = package.strip()
    if "_global_" in package:
        package = package[package.rfind("_global_") + len("_global_") :]
    package = package.lstrip(".")
    return package == "hydra" or package.startswith("hydra.")


def _values(entry: dict):
    for value in entry.values():
        if isinstance(value, list):
            yield from value
        else:
            yield value
