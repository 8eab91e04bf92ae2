"""What a branch's configs may do while they are checked: only describe configs.

Composition runs on a private copy of conf/ and experiments/ holding regular files only (a
symbolic link could point anywhere on the machine), and a file is refused when it could make
Hydra read outside that copy or into the environment: a defaults entry with `..` (Hydra joins it
onto the config folder and follows it), a `hydra.searchpath` (a `pkg://` entry imports a module),
or `hydra.job.env_copy`. A refused file is left out of the copy and reported.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

COMPOSED_DIRS = ("conf", "experiments")  # what composition reads
MAX_FILE_BYTES = 1_000_000


def private_copy(src_root: Path, dest_root: Path) -> list[str]:
    """Copy src_root's conf/ and experiments/ into dest_root as regular files; returns problems,
    each "PATH: reason"."""
    problems: list[str] = []
    for part in COMPOSED_DIRS:
        base = src_root / part
        if base.is_symlink():
            problems.append(f"{part}/: a symbolic link; not read")
            continue
        for folder, dirs, files in os.walk(base):
            here = Path(folder)
            for d in list(dirs):
                if (here / d).is_symlink():
                    problems.append(f"{(here / d).relative_to(src_root)}/: a symbolic link; not read")
                    dirs.remove(d)
                elif "." in d:  # Hydra would read `a.b=...` overrides as choices of such a group
                    problems.append(f"{(here / d).relative_to(src_root)}/: not a config group name; not read")
                    dirs.remove(d)
            for name in files:
                path = here / name
                rel = path.relative_to(src_root)
                if path.is_symlink() or not path.is_file():
                    problems.append(f"{rel}: a symbolic link; not read")
                elif path.stat().st_size > MAX_FILE_BYTES:
                    problems.append(f"{rel}: over {MAX_FILE_BYTES} bytes; not read")
                else:
                    (dest_root / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest_root / rel)
    return problems + refuse_unsafe(dest_root)


def refuse_unsafe(root: Path) -> list[str]:
    """Delete (and name) each YAML file under root that could reach outside the copy or the env."""
    import yaml
    problems = []
    for part in COMPOSED_DIRS:
        for folder in sorted((root / part).rglob("*")) if (root / part).is_dir() else []:
            if folder.is_dir() and "." in folder.name and folder.exists():
                problems.append(f"{folder.relative_to(root)}/: not a config group name; not read")
                shutil.rmtree(folder)
        for path in sorted((root / part).rglob("*.yaml")) if (root / part).is_dir() else []:
            try:
                data = yaml.safe_load(path.read_text())
            except (yaml.YAMLError, UnicodeDecodeError):
                continue  # composing it reports the syntax error
            reason = unsafe_reason(data)
            if reason:
                problems.append(f"{path.relative_to(root)}: {reason}; refused")
                path.unlink()
    return problems


def unsafe_reason(data) -> str | None:
    if not isinstance(data, dict):
        return None
    for entry in data.get("defaults") or []:
        words = [entry] if isinstance(entry, str) else (
            [str(k) for k in entry] + [str(v) for v in _values(entry)] if isinstance(entry, dict) else [])
        for word in words:
            if ".." in word:
                return f"defaults entry {word!r} reaches outside the config folder"
            if word.lstrip("/").replace("override ", "").strip().startswith("hydra."):
                return f"defaults entry {word!r} sets Hydra's own settings"
    hydra = data.get("hydra")
    if isinstance(hydra, dict):
        if "searchpath" in hydra:
            return "hydra.searchpath adds config sources (a pkg:// one imports a module)"
        if isinstance(hydra.get("job"), dict) and "env_copy" in hydra["job"]:
            return "hydra.job.env_copy copies environment variables into the config"
    return None


def _values(entry: dict):
    for value in entry.values():
        if isinstance(value, list):
            yield from value
        else:
            yield value
