"""What `mlws diff --git REF` needs from git, with plumbing commands only (no hooks, no filters,
nothing checked out into the user's tree). Paths are bytes in git: one that is not UTF-8 is kept
with its odd bytes escaped (surrogateescape), never a decoding error."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import MlwsError
from .sandbox import COMPOSED_DIRS


def git(top: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(top), *args], input=stdin, capture_output=True, timeout=120)
    except FileNotFoundError:
        raise MlwsError("git is not installed") from None
    if done.returncode != 0:
        raise MlwsError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def toplevel(root: Path) -> Path:
    done = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if done.returncode != 0:
        raise MlwsError(f"{root} is not in a git repository; `mlws diff --git` compares against a git ref")
    return Path(done.stdout.strip()).resolve()


def resolve(top: Path, ref: str) -> str:
    """The commit a ref names; a clear error for one that does not exist."""
    if ref.startswith("-"):
        raise MlwsError(f"not a git ref: {ref!r}")
    done = subprocess.run(
        ["git", "-C", str(top), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise MlwsError(f"git ref {ref!r} does not exist here (try `git fetch`, or a branch, tag or commit)")
    return done.stdout.strip()


def materialise(top: Path, commit: str, rel: str, dest: Path) -> Path:
    """Write the workspace's conf/ and experiments/ as they are at `commit` under dest; returns the
    workspace root there. Regular files only: a symlink from the ref is not followed or created."""
    listing = git(top, "ls-tree", "-r", "-z", commit, "--", *_composed(rel)).split(b"\0")
    entries = []
    for line in filter(None, listing):
        meta, _, path = line.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((sha.decode(errors="surrogateescape"), path.decode(errors="surrogateescape")))
    contents = _blobs(top, [sha for sha, _ in entries])
    dest = dest.resolve()
    for (_sha, path), data in zip(entries, contents):
        target = (dest / path).resolve()
        if dest not in target.parents:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest / rel if rel else dest


def _blobs(top: Path, shas: list[str]) -> list[bytes]:
    """Many blobs in one `git cat-file --batch` call."""
    if not shas:
        return []
    raw = git(top, "cat-file", "--batch", stdin=("\n".join(shas) + "\n").encode())
    out, pos = [], 0
    for _ in shas:
        header_end = raw.index(b"\n", pos)
        size = int(raw[pos:header_end].split()[2])
        out.append(raw[header_end + 1 : header_end + 1 + size])
        pos = header_end + 1 + size + 1
    return out


def renamed_experiments(top: Path, commit: str, rel: str) -> dict[str, str]:
    """{new name: old name} for experiment files git sees as renamed since `commit`."""
    path = f"{rel}/experiments" if rel else "experiments"
    out = git(top, "diff", "-M", "--name-status", "-z", commit, "--", path).split(b"\0")
    renames, i = {}, 0
    while i < len(out) and out[i]:
        status = out[i].decode(errors="surrogateescape")
        if status.startswith("R"):
            old, new = out[i + 1].decode(errors="surrogateescape"), out[i + 2].decode(errors="surrogateescape")
            renames[Path(new).stem] = Path(old).stem
            i += 3
        else:
            i += 2
    return renames


def changed_files(top: Path, commit: str, rel: str) -> list[str]:
    """Files under conf/ and experiments/ that differ from `commit` (committed or not, untracked too)."""
    paths = _composed(rel)
    files = set(
        git(top, "diff", "--name-only", "-z", commit, "--", *paths).decode(errors="surrogateescape").split("\0")
    )
    files |= set(
        git(top, "ls-files", "--others", "--exclude-standard", "-z", "--", *paths)
        .decode(errors="surrogateescape")
        .split("\0")
    )
    return sorted(_strip(f, rel) for f in files if f)


def uncommitted(top: Path, rel: str) -> list[str]:
    """Files under conf/ and experiments/ with changes not committed (untracked ones included)."""
    out = (
        git(top, "status", "--porcelain", "-z", "--untracked-files=all", "--", *_composed(rel))
        .decode(errors="surrogateescape")
        .split("\0")
    )
    files, i = [], 0
    while i < len(out) and out[i]:
        files.append(_strip(out[i][3:], rel))
        i += 2 if out[i][0] in "RC" else 1  # a rename's old path follows as its own field
    return sorted(files)


def _composed(rel: str) -> list[str]:
    """conf/ and experiments/ of the workspace at `rel` in the repository."""
    return [f"{rel}/{d}" if rel else d for d in COMPOSED_DIRS]


def _strip(path: str, rel: str) -> str:
    return path[len(rel) + 1 :] if rel and path.startswith(rel + "/") else path
