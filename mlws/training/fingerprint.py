"""The data a run saw, as one digest recorded with the run (artifacts["data"]).

Two ways, in this order:
- the data module's class defines `fingerprint()`: the module is built from the run's data config
  and asked (the digits example hashes the arrays it loads);
- else the files under the data config's path-like keys (`data_dir`, `root`, `*_path`, `*_file`, ...):
  each file's size and modification time first, its content hash (sha256) cached by them in
  .mlws/fingerprints.json, so a second run over an unchanged folder reads no file; bounded by time.

Where neither is possible the record says "not fingerprinted" and why. Compare two records with
`changed(a, b)`. Nothing here imports torch; the data module's class is imported only when needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

BUDGET_S = float(os.environ.get("MLWS_FINGERPRINT_BUDGET_S", "60"))  # hashing time at most, per run
PATH_KEYS = ("path", "dir", "root", "file", "files", "folder")  # a key ending so names a path
CACHE_FILE = "fingerprints.json"
CHUNK = 1 << 20


def is_path_key(key: str) -> bool:
    key = key.lower()
    return not key.startswith("_") and any(key.endswith(k) for k in PATH_KEYS)


def path_values(node, prefix: str = "data") -> dict[str, str]:
    """{dotted key: value} for every string under a path-like key of the data config (nested too)."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, list) and is_path_key(str(key)) and all(isinstance(v, str) for v in value):
                found.update({f"{prefix}.{key}.{i}": v for i, v in enumerate(value) if v and "://" not in v})
            elif isinstance(value, (dict, list)):
                found.update(path_values(value, f"{prefix}.{key}"))
            elif isinstance(value, str) and value and is_path_key(str(key)) and "://" not in value:
                found[f"{prefix}.{key}"] = value
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.update(path_values(value, f"{prefix}.{i}"))
    return found


def data_fingerprint(
    data_cfg: dict | None,
    workspace: str | os.PathLike,
    *,
    budget_s: float = BUDGET_S,
    state_dir: str | os.PathLike | None = None,
) -> dict:
    """{"digest", "method", ...} or {"digest": None, "reason": "not fingerprinted: ..."}; never raises."""
    data_cfg = data_cfg or {}
    try:
        own = _module_fingerprint(data_cfg)
        if own is not None:
            return own
        paths = path_values(data_cfg)
        if not paths:
            return not_fingerprinted("the data module defines no fingerprint() and its config names no path")
        state = Path(state_dir) if state_dir is not None else Path(workspace) / ".mlws"
        return files_fingerprint(paths, Path(workspace), budget_s=budget_s, cache_path=state / CACHE_FILE)
    except Exception as e:  # a record that says why, never a failed run
        return not_fingerprinted(f"{type(e).__name__}: {e}"[:300])


def not_fingerprinted(reason: str) -> dict:
    return {"digest": None, "reason": f"not fingerprinted: {reason}"}


def _module_fingerprint(data_cfg: dict) -> dict | None:
    target = data_cfg.get("_target_")
    if not target:
        return None
    from ..errors import MlwsError
    from ..targets import load_class

    try:
        cls = load_class(target, "data._target_")
    except MlwsError:  # the run itself says so when it builds the module; the files may still tell
        return None
    if not callable(getattr(cls, "fingerprint", None)):
        return None
    from .builder import _instantiate

    started = time.perf_counter()
    value = _instantiate(data_cfg, "data").fingerprint()
    return {
        "digest": str(value),
        "method": f"{cls.__name__}.fingerprint()",
        "seconds": round(time.perf_counter() - started, 3),
    }


def files_fingerprint(
    paths: dict[str, str], workspace: Path, *, budget_s: float = BUDGET_S, cache_path: Path | None = None
) -> dict:
    """One digest over every file under these paths (relative ones from the workspace)."""
    started = time.perf_counter()
    cache = _read_cache(cache_path)
    total = hashlib.sha256()
    n_files = n_bytes = hashed = 0
    for key, value in sorted(paths.items()):
        root = Path(value) if os.path.isabs(value) else workspace / value
        if not root.exists():
            return not_fingerprinted(f"{key}={value} does not exist")
        total.update(f"{key}\0".encode())
        for path, rel in _files(root):
            st = path.stat()
            stamp = [st.st_size, st.st_mtime_ns]
            entry = cache.get(str(path))
            if not entry or entry[:2] != stamp:
                if time.perf_counter() - started > budget_s:
                    _write_cache(cache_path, cache)  # what was hashed is kept: the next run goes further
                    return not_fingerprinted(
                        f"hashing {key}={value} took over {budget_s:g} s "
                        f"({n_files} files done; the next run continues from the cache)"
                    )
                entry = [*stamp, _sha256(path)]
                cache[str(path)] = entry
                hashed += 1
            total.update(f"{rel}\0{entry[0]}\0{entry[2]}\n".encode())
            n_files += 1
            n_bytes += st.st_size
    if hashed:
        _write_cache(cache_path, cache)
    return {
        "digest": "sha256:" + total.hexdigest(),
        "method": "files",
        "paths": paths,
        "files": n_files,
        "bytes": n_bytes,
        "hashed": hashed,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _files(root: Path):
    """(path, name relative to root) of every file, in a stable order; hidden files are data too."""
    if root.is_file():
        yield root, root.name
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file():
                yield path, path.relative_to(root).as_posix()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _read_cache(path: Path | None) -> dict:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path | None, cache: dict) -> None:
    if path is None:
        return
    from ..fileio import write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(cache, separators=(",", ":")))
    except OSError:
        pass  # a read-only workspace: no cache, the next run hashes again


def digest_of(record: dict | None) -> str | None:
    """The recorded data digest of a run record (None: not fingerprinted, or recorded before this existed)."""
    data = ((record or {}).get("artifacts") or {}).get("data") or {}
    return data.get("digest")


def changed(old: dict | None, new: dict | None) -> str | None:
    """A line saying how the data changed between two fingerprints, or None when it did not (or
    when either was not fingerprinted: nothing can be said)."""
    a, b = (old or {}).get("digest"), (new or {}).get("digest")
    if not a or not b or a == b:
        return None
    return f"the data changed ({what(new)}): fingerprint {short(a)} → {short(b)}"


def what(fp: dict) -> str:
    """Which data a fingerprint covers: `data.data_dir=./images` or `DigitsDataModule.fingerprint()`."""
    if fp.get("paths"):
        return ", ".join(f"{k}={v}" for k, v in fp["paths"].items())
    return fp.get("method") or "the data module"


def short(digest: str | None) -> str:
    if not digest:
        return "not fingerprinted"
    return digest.split(":", 1)[-1][:12] if len(digest) > 16 else digest


def record_at_start(registry, spec) -> dict:
    """The worker's step before training: fingerprint the run's data and record it with the run."""
    fp = data_fingerprint(spec.config.get("data"), spec.workspace)
    if hasattr(registry, "update"):
        try:
            registry.update(spec.run_id, artifacts={"data": fp})
        except Exception:  # a registry that is gone now fails the run where it matters: at finish
            pass
    return fp
