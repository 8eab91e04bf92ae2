"""Copy files out of a run directory, with a progress bar; refuses paths that leave it."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import MlwsError


def copy_local(run_dir: Path, path: str, dest: Path) -> dict:
    source = (run_dir / path).resolve()
    if run_dir.resolve() not in (source, *source.parents):
        raise MlwsError(f"{path!r} is outside run directory {run_dir}")
    if not source.exists():
        raise MlwsError(f"run has no {path!r} (looked in {run_dir})")
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    base = source.parent if source.is_file() else source
    target_root = dest / source.name if source.is_file() and dest.is_dir() else dest
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    total = sum(f.stat().st_size for f in files)
    with Progress(TextColumn("copying"), BarColumn(), DownloadColumn(), transient=True) as progress:
        bar = progress.add_task("copy", total=total)
        for f in files:
            target = target_root if source.is_file() else target_root / f.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)
            progress.advance(bar, f.stat().st_size)
    return {"files": len(files), "bytes": total, "dest": str(target_root)}
