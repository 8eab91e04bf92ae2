"""What SkyPilot uploads from the workspace (the task's workdir).

SkyPilot's client zips the workdir for the API server leaving out what .skyignore lists, else what git
ignores, and outside a git repository nothing: runs/ with its checkpoints, .mlws/ with the registry and
notebook tokens, a .venv. `mlws init` writes a .skyignore (write_skyignore); a launch from a workspace
with neither git nor .skyignore writes one with mlws's own folders and says so (ensure_skyignore).
"""

from __future__ import annotations

from pathlib import Path

SKYIGNORE = """\
# What SkyPilot does not upload to a cloud node from this workspace (written by mlws). SkyPilot reads
# this file instead of .gitignore when it exists; outside a git repository it is the only exclude list.
runs/
.mlws/
.venv/
venv/
wandb/
outputs/
multirun/
__pycache__/
*.pyc
.git/
"""
OWN = ("runs/", ".mlws/", ".venv/")


def write_skyignore(root) -> bool:
    """Write ROOT/.skyignore unless it exists; True when written (for `mlws init`)."""
    path = Path(root) / ".skyignore"
    if path.exists():
        return False
    path.write_text(SKYIGNORE)
    return True


def in_git(root) -> bool:
    """Inside a git work tree (a .git folder or file here or above): SkyPilot then leaves out what git ignores."""
    root = Path(root).resolve()
    return any((p / ".git").exists() for p in (root, *root.parents))


def ensure_skyignore(root) -> str | None:
    """Before a launch: a workspace that is neither in git nor has a .skyignore gets one (mlws's own
    folders and the usual caches); returns the warning to show, or None."""
    root = Path(root)
    if (root / ".skyignore").exists() or in_git(root):
        return None
    write_skyignore(root)
    return (
        f"{root} is not a git repository and had no .skyignore, so SkyPilot would upload everything in it "
        f"(its .gitignore is not read outside git): wrote {root / '.skyignore'} leaving out "
        f"{', '.join(OWN)} and caches; edit it to leave out more"
    )


def plan_note(root) -> str | None:
    root = Path(root)
    if (root / ".skyignore").exists() or in_git(root):
        return None
    return (
        f"{root} is not a git repository and has no .skyignore: a launch writes one leaving out "
        f"{', '.join(OWN)} (SkyPilot would upload everything)"
    )
