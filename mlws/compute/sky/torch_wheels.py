"""Which torch build a node installs: one table of torch version -> CUDA variants -> accelerators, and a
plan-time check that the chosen index really has a wheel for this machine's torch and the node's Python.

The node runs this machine's torch version, built for its GPUs. PyTorch publishes each version for a
few CUDA variants only (torch 2.13: cu126, cu129, cu130, cu132; no cu128). CUDA 12.8+ builds dropped
Volta and Pascal (sm_60/sm_70: V100, P100); Blackwell (sm_100/sm_120) has kernels from 12.8 on only;
CUDA 13 builds need a 580 driver, newer than most cloud images' 535/550. So: every GPU the oldest
12.x variant that still has its kernels, Blackwell the oldest 12.x variant that has Blackwell's.
"""

from __future__ import annotations

import os
import re

TORCH_INDEX = "https://download.pytorch.org/whl/{}"
NODE_PYTHON = "3.10"  # python3 of SkyPilot's default images (Ubuntu 22.04), where sky-user-env is made

BLACKWELL = ("B100", "B200", "B300", "GB200", "GB300", "RTX5090", "RTXPRO6000")
# torch major.minor -> (the CUDA variants download.pytorch.org publishes, the variant for most GPUs,
# the variant for Blackwell). A version not listed gets the newest row's choice; the plan-time check
# of the index then says whether that variant exists.
TORCH_CUDA = {
    "2.13": (("cu126", "cu129", "cu130", "cu132"), "cu126", "cu129"),
    "2.9": (("cu126", "cu128", "cu130"), "cu126", "cu128"),
    "2.8": (("cu126", "cu128", "cu129"), "cu126", "cu128"),
    "2.7": (("cu118", "cu126", "cu128"), "cu126", "cu128"),
}


def _minor(torch_version: str) -> str:
    return ".".join(torch_version.split("+")[0].split(".")[:2])


def variant(torch_version: str, accelerators) -> str:
    """cpu, or the CUDA variant (cu126, ...) for these accelerators and this torch version."""
    names = accelerator_names(accelerators)
    if not names:
        return "cpu"
    newest = max(TORCH_CUDA, key=lambda v: tuple(int(p) for p in v.split(".")))
    _published, default, blackwell = TORCH_CUDA.get(_minor(torch_version)) or TORCH_CUDA[newest]
    return blackwell if any(n.upper().startswith(BLACKWELL) for n in names) else default


def torch_index(c: dict, torch_version: str | None = None) -> str | None:
    """Where the node's torch comes from: compute.torch_index = auto (by accelerator and torch version),
    pypi (the index pip is configured with; PyPI's default torch is a CUDA 13 build), or a URL."""
    choice = c.get("torch_index") or "auto"
    if choice == "pypi":
        return None
    if choice != "auto":
        return str(choice)
    if torch_version is None:
        from ...provenance import package_versions

        torch_version = package_versions().get("torch") or ""
    base = os.environ.get("MLWS_TORCH_INDEX_BASE") or TORCH_INDEX.format("").rstrip("/")
    return f"{base.rstrip('/')}/{variant(torch_version, c.get('accelerators'))}"


def accelerator_names(accelerators) -> list[str]:
    """V100:2 -> [V100]; {A100: 8} -> [A100]; [V100, T4] -> both."""
    if not accelerators:
        return []
    if isinstance(accelerators, dict):
        return [str(k) for k in accelerators]
    if isinstance(accelerators, (list, tuple)):
        return [n for a in accelerators for n in accelerator_names(a)]
    return [str(accelerators).split(":")[0].strip()]


def check_index(index: str, torch_version: str, python: str = NODE_PYTHON, timeout: float = 2.0) -> str | None:
    """None when `index` (pip's simple API) lists a torch==VERSION wheel for CPython `python` on Linux;
    else why not. One bounded GET of INDEX/torch/ (the page pip itself reads), at most 8 MB."""
    import threading
    import urllib.error
    import urllib.request

    version = torch_version.split("+")[0]
    tag = "cp" + python.replace(".", "")
    url = f"{index.rstrip('/')}/torch/"
    answer: dict = {}

    def fetch():  # in a thread: a name lookup that hangs offline is not bounded by the socket timeout
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers={"Accept": "text/html"}), timeout=timeout
            ) as r:
                answer["page"] = r.read(8 << 20).decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            answer["status"] = e.code
        except (OSError, ValueError) as e:
            answer["error"] = str(getattr(e, "reason", e))

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if "status" in answer:
        return f"{url} answered HTTP {answer['status']}: no torch there"
    if "page" not in answer:
        raise IndexUnreachable(f"could not check {url} ({answer.get('error') or f'no answer in {timeout:.0f} s'})")
    page = answer["page"]
    page = page.replace("%2B", "+").replace("%2b", "+")
    wheel = re.compile(rf"torch-{re.escape(version)}(\+[\w.]+)?-{tag}-{tag}-(manylinux|linux)[\w.]*x86_64\.whl")
    if not wheel.search(page):
        return f"{index} has no torch {version} wheel for Python {python} on Linux x86_64"
    return None


class IndexUnreachable(Exception):
    """Offline, or the index does not answer: the plan says so and goes on."""


def plan_notes(c: dict, torch_version: str | None) -> tuple[list[str], str | None]:
    """(notes, refusal) for the node's torch index: a refusal when the index answers without a wheel
    for this torch and the node's Python; a note when it could not be asked."""
    if not torch_version:
        return [], None
    index = torch_index(c, torch_version)
    if index is None:
        return [], None
    try:
        problem = check_index(index, torch_version)
    except IndexUnreachable as e:
        return [
            f"the node's torch index was not checked: {e}; setup fails on the node if it has no "
            f"torch {torch_version.split('+')[0]} for Python {NODE_PYTHON}"
        ], None
    if problem:
        return [], (
            f"{problem}; set compute.torch_index to an index that has one (published CUDA variants "
            f"for torch {_minor(torch_version)}: {', '.join(TORCH_CUDA.get(_minor(torch_version), ((),))[0]) or 'unknown'})"
        )
    return [], None
