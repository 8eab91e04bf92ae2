"""Shell completion: `mlws completion bash|zsh` prints a script; the shell then calls
`mlws __complete CWORD WORDS...` on each TAB. Answers come from files and the registry's SQLite
file directly (no Hydra, no heavy library), so a TAB answers at once.

Completed: commands, options, run ids, sweep ids, experiment names, config groups and their
options (the workspace's and mlws's own), and config keys (read from the building blocks the root
config chooses, not composed)."""

from __future__ import annotations

import os
import sys

from .commands import COMMANDS, NOTEBOOK_NAMES, OVERRIDES, RUN_IDS, SWEEP_IDS

# bash splits words at COMP_WORDBREAKS (= and : among them), so it gets the line up to the cursor
# and its answers are the rest of bash's own current word (after the last = or :).
BASH = r"""# mlws completion for bash: eval "$(mlws completion bash)"
_mlws_complete() {
    local IFS=$'\n'
    COMPREPLY=($(mlws __complete --line "${COMP_LINE:0:COMP_POINT}" 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[=.:] ]]; then compopt -o nospace; fi
}
complete -o default -F _mlws_complete mlws
"""

ZSH = r"""#compdef mlws
# mlws completion for zsh: eval "$(mlws completion zsh)"
_mlws() {
    local -a candidates
    candidates=("${(@f)$(mlws __complete $((CURRENT - 1)) "${words[@]}" 2>/dev/null)}")
    local c
    for c in $candidates; do
        if [[ $c == *[=.:] ]]; then compadd -S '' -- "$c"; else compadd -- "$c"; fi
    done
}
compdef _mlws mlws
"""


def script(shell: str) -> str:
    return {"bash": BASH, "zsh": ZSH}[shell]


def candidates(cword: int, words: list[str]) -> list[str]:
    """What may come at position `cword` of `words` (words[0] is `mlws`)."""
    current = words[cword] if cword < len(words) else ""
    if cword <= 1:
        return _starting(current, [*COMMANDS, "--help"])
    command = words[1]
    if command == "completion":
        return _starting(current, ["bash", "zsh"])
    if command not in COMMANDS:
        return []
    subcommands = COMMANDS[command].subcommands
    sub = words[2] if len(words) > 2 and cword > 2 and words[2] in subcommands else None
    if current.startswith("-"):
        return _starting(current, _options(command, sub or COMMANDS[command].default))
    completes = subcommands[sub] if sub else COMMANDS[command].completes
    if subcommands and sub is None and cword == 2:  # a subcommand, or what the default one takes
        return _starting(current, [s for s in subcommands if s != COMMANDS[command].default]) + (
            _completing(completes, command, cword, current)
        )
    return _completing(completes, command, cword - (1 if sub else 0), current)


def _completing(completes: str | None, command: str, cword: int, current: str) -> list[str]:
    if completes == NOTEBOOK_NAMES:
        return _starting(current, _notebook_names())
    if completes == RUN_IDS:
        if command == "cp" and ":" not in current and cword == 2:  # cp RUN:PATH DEST
            return [i + ":" for i in _starting(current, _ids("runs"))]
        return _starting(current, _ids("runs"))
    if completes == SWEEP_IDS:
        return _starting(current, _ids("sweeps"))
    if completes == OVERRIDES:
        return _overrides(current)
    return []


def _starting(prefix: str, options) -> list[str]:
    return [o for o in options if o.startswith(prefix)]


def _options(command: str, sub: str | None = None) -> list[str]:
    """The command's options (its subcommand's, when it has subcommands)."""
    import argparse
    import importlib

    module = importlib.import_module(f"mlws.cli.{command}_cmd") if command.isidentifier() else None
    if module is None:
        return []
    parser = argparse.ArgumentParser(add_help=True)
    module.add_arguments(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and sub in action.choices:
            parser = action.choices[sub]
    return sorted(s for a in parser._actions for s in a.option_strings if s.startswith("--"))


def _notebook_names() -> list[str]:
    """The notebooks this workspace started (their folders under .mlws/notebooks)."""
    ws = _workspace()
    folder = ws.state_dir / "notebooks" if ws is not None else None
    return (
        sorted(p.name for p in folder.iterdir() if (p / "state.json").is_file()) if folder and folder.is_dir() else []
    )


def _workspace():
    from mlws.errors import MlwsError
    from mlws.workspace import find_workspace

    try:
        return find_workspace()
    except MlwsError:
        return None


def _ids(table: str) -> list[str]:
    """Ids from the workspace's SQLite registry, newest first (a team database is not asked)."""
    import sqlite3

    ws = _workspace()
    if ws is None or not ws.registry_url.startswith("sqlite:///"):
        return []
    path = ws.registry_url[len("sqlite:///") :]
    if not os.path.exists(path):
        return []
    try:
        from pathlib import Path

        with sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=0.2) as db:
            return [str(r[0]) for r in db.execute(f"SELECT id FROM {table} ORDER BY id DESC LIMIT 500")]
    except sqlite3.Error:
        return []


def _overrides(current: str) -> list[str]:
    ws = _workspace()
    if ws is None:
        return []
    prefix = "+" if current.startswith("+") else ""
    body = current.lstrip("+~")
    if "=" in body:
        key, _, value = body.partition("=")
        if key == "experiment":
            return [f"{prefix}experiment={n}" for n in _starting(value, ws.experiment_names())]
        if ws.is_group(key):
            return [f"{prefix}{key}={o}" for o in _starting(value, _group_options(ws, key))]
        return []
    groups = sorted(
        {
            p.name
            for d in (ws.conf_dir, _packaged())
            if d.is_dir()
            for p in d.iterdir()
            if p.is_dir() and not p.name.startswith(("_", "."))
        }
    )
    names = [prefix + n for n in [g + "=" for g in groups] + [k + "=" for k in _keys(ws)]]
    return _starting(current, ["+experiment=", *names])


def _packaged():
    from mlws.workspace import PACKAGED_CONF

    return PACKAGED_CONF


def _group_options(ws, group: str) -> list[str]:
    return sorted({p.stem for d in ws.group_dirs(group) for p in d.glob("*.yaml")})


def _keys(ws) -> list[str]:
    """Config keys as the root config's chosen blocks declare them (their YAML files, flattened)."""
    from mlws.flatten import flatten

    root = _light_yaml(ws.conf_dir / "config.yaml")
    keys = set(flatten({k: v for k, v in root.items() if k != "defaults"}))
    for entry in root.get("defaults") or []:
        for group, option in entry.items() if isinstance(entry, dict) else ():
            for name in option if isinstance(option, list) else [option]:
                found = [d / f"{name}.yaml" for d in ws.group_dirs(str(group)) if (d / f"{name}.yaml").is_file()]
                if found:  # the workspace's file wins, as in Hydra
                    block = {k: v for k, v in _light_yaml(found[0]).items() if k != "defaults"}
                    keys |= {f"{group}.{k}" for k in flatten(block)}
    return sorted(keys)


def _light_yaml(path) -> dict:
    """A block's keys for a TAB: PyYAML alone (OmegaConf's exact loader costs ~0.2 s of imports,
    and only keys are needed here); whatever cannot be read completes nothing."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except Exception:
        return {}
    return data if isinstance(data, dict) else {}


def from_line(line: str) -> list[str]:
    """Candidates for the end of `line` (bash's COMP_LINE up to the cursor), each cut to what
    follows the current word's last `=` or `:`, the part bash replaces."""
    import shlex

    try:
        words = shlex.split(line)
    except ValueError:  # an open quote: complete the words as typed
        words = line.split()
    if not line or line[-1].isspace():
        words.append("")
    current = words[-1]
    cut = max(current.rfind("="), current.rfind(":")) + 1
    return [c[cut:] for c in candidates(len(words) - 1, words)]


def main(argv: list[str]) -> int:
    """`mlws __complete --line LINE` (bash) or `mlws __complete CWORD WORDS...` (zsh). Never a
    traceback: a shell's TAB shows nothing rather than an error."""
    try:
        if argv[:1] == ["--line"]:
            found = from_line(argv[1] if len(argv) > 1 else "")
        else:
            cword = int(argv[0])
            found = candidates(cword, argv[1:]) if 0 <= cword <= len(argv) - 1 else []
    except Exception:
        return 0
    for line in found:
        sys.stdout.write(line + "\n")
    return 0
