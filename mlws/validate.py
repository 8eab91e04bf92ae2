"""Checks a composed config against its building blocks before anything runs.

The building blocks in conf/ declare every key and, by their defaults, its type; conf/schema.yaml
adds value ranges. An experiment or override may change those keys but not invent new ones
(unless written with Hydra's `+key=` on the command line, which says "add").
"""

from __future__ import annotations

import difflib

from .config import Composed, compose
from .errors import MlwsError
from .experiments import chain, load_yaml
from .flatten import flatten
from .redacted import is_redacted  # an ${oc.env:...} while reviewing a branch: its type is unknown
from .workspace import Workspace


def validate(ws: Workspace, composed: Composed, overrides: list[str], base_cache: dict | None = None) -> None:
    """Raise one MlwsError listing every problem, each naming its key and where it was set.
    `base_cache`: building blocks composed per group choice, shared when checking many experiments."""
    group_choices = {**composed.choices, **_multi_select_choices(ws, composed.experiment, overrides)}
    base_overrides = tuple(_choice_override(g, o) for g, o in group_choices.items())
    cache = {} if base_cache is None else base_cache
    if base_overrides not in cache:
        cache[base_overrides] = compose(ws, list(base_overrides)).config
    base = cache[base_overrides]
    final, base_flat = flatten(composed.config), flatten(base)
    added = [o.lstrip("+").split("=", 1)[0] for o in overrides if o.startswith("+") and "experiment=" not in o]
    problems: list[str] = []
    where = lambda key: _origin(ws, composed.experiment, key, overrides)  # only for problems: it reads files
    for key, value in final.items():
        if key not in base_flat:
            emptied = value == {} and any(k.startswith(key + ".") for k in base_flat)
            if not (emptied or _free_form(key, base, composed.config) or any(_under(key, a) for a in added)):
                problems.append(_unknown(key, base_flat, where(key)))
            continue
        problem = None if is_redacted(value) else _type_problem(base_flat[key], value)
        if problem:
            problems.append(f"{key}: {problem} (set in {where(key)})")
    for key, rule in _ranges(ws).items():
        if key in final:
            problem = _range_problem(final[key], rule)
            if problem:
                problems.append(f"{key}: {problem} (set in {_origin(ws, composed.experiment, key, overrides)})")
    if problems:
        raise MlwsError("invalid config:\n  " + "\n  ".join(problems))


def _multi_select_choices(ws: Workspace, experiment: str | None, overrides: list[str]) -> dict:
    """Groups with several options selected (callbacks=[a,b]); Hydra's runtime choices omit them."""
    choices: dict = {}
    for path in chain(ws, experiment):
        for entry in load_yaml(path).get("defaults", []):
            if isinstance(entry, dict):
                for key, value in entry.items():
                    group = key.removeprefix("override").strip().lstrip("/")
                    if isinstance(value, list) and _is_group(ws, group):
                        choices[group] = [str(v) for v in value]
    for o in overrides:
        key, _, value = o.lstrip("+").partition("=")
        if value.startswith("[") and value.endswith("]") and _is_group(ws, key):
            choices[key] = [v.strip() for v in value[1:-1].split(",") if v.strip()]
    return choices


def _is_group(ws: Workspace, group: str) -> bool:
    """A config group of the workspace (a folder in conf/); never one of Hydra's own settings."""
    return ws.is_group(group)


def _choice_override(group: str, option) -> str:
    """group=option, or group=[a,b] for a group with several options selected."""
    return f"{group}=[{','.join(option)}]" if isinstance(option, list) else f"{group}={option}"


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".")


def _free_form(key: str, base: dict, final: dict) -> bool:
    """Keys under a node that is null or {} in the blocks, or whose _target_ was swapped, are free."""
    node_b, node_f = base, final
    for part in key.split(".")[:-1]:
        if not isinstance(node_b, dict) or part not in node_b:
            return False
        node_b, node_f = node_b[part], node_f.get(part) if isinstance(node_f, dict) else None
        if node_b is None or node_b == {}:
            return True
        if isinstance(node_b, dict) and isinstance(node_f, dict) and node_b.get("_target_") != node_f.get("_target_"):
            return True
    return False


def _unknown(key: str, known: dict, where: str) -> str:
    parent = key.rsplit(".", 1)[0] + "." if "." in key else ""
    siblings = [k for k in known if k.startswith(parent)] or list(known)
    hint = difflib.get_close_matches(key, siblings, n=1, cutoff=0.6)
    msg = f"{key}: unknown key (set in {where})"
    return msg + (f"; did you mean '{hint[0]}'?" if hint else "")


def _type_problem(default, value) -> str | None:
    if default is None or value is None:
        return None
    kinds = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "mapping"}
    want = kinds.get(type(default))
    got = kinds.get(type(value), type(value).__name__)
    if want is None or want == got or (want == "float" and got == "int"):
        return None
    return f"expected {want}, got {got} {value!r}"


def _range_problem(value, rule: dict) -> str | None:
    if "choices" in rule:
        return None if value in rule["choices"] else f"must be one of {rule['choices']}, got {value!r}"
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None  # a type problem, reported above
    checks = [
        ("min", lambda v, b: v >= b, ">="),
        ("max", lambda v, b: v <= b, "<="),
        ("gt", lambda v, b: v > b, ">"),
        ("lt", lambda v, b: v < b, "<"),
    ]
    for name, ok, sign in checks:
        if name in rule and not ok(value, rule[name]):
            return f"must be {sign} {rule[name]}, got {value!r}"
    return None


def _ranges(ws: Workspace) -> dict:
    """mlws's own value ranges, then the workspace's (which add keys, or replace a key's range whole)."""
    from .workspace import PACKAGED_CONF

    ranges = {}
    for path in (PACKAGED_CONF / "schema.yaml", ws.conf_dir / "schema.yaml"):
        if path.is_file():
            ranges.update(load_yaml(path) or {})
    bad = sorted(k for k, rule in ranges.items() if not isinstance(rule, dict))
    if bad:
        raise MlwsError(
            f"conf/schema.yaml: {bad[0]}: a range rule must be a mapping (min, max, gt, lt or "
            f"choices), got {ranges[bad[0]]!r}"
        )
    return ranges


def _origin(ws: Workspace, experiment: str | None, key: str, overrides: list[str]) -> str:
    """The override or experiment file that sets `key` last, else conf/."""
    for o in reversed(overrides):
        name = o.lstrip("+~").split("=", 1)[0]
        if "=" in o and _under(key, name):
            return f"command-line override '{o}'"
    for path in reversed(chain(ws, experiment)):
        if key in flatten(load_yaml(path)):
            return f"experiments/{path.name}"  # chain() holds the experiments folder's files only
    return "conf/"
