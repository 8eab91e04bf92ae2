"""The node's setup script: this machine's torch (the build for the node's GPUs), this machine's mlws
(a wheel of it), then the workspace's own *dependencies*, never a build of the workspace itself.

A team's pyproject.toml may hold only tool settings ([tool.ruff]) or a [project] that setuptools cannot
build from a flat layout (`acme/`, `conf/`, `experiments/` side by side): `pip install -e .` would fail
the setup. The worker already puts the workspace on sys.path, so the node needs only what the project
depends on: read here, on the laptop, from `[project].dependencies`; a requirements.txt is installed as
it is, on the node. Every install runs with a constraints file that pins torch (and mlws), so an
unpinned `torchvision` cannot swap in another torch build (PyPI's CUDA 13 one, which a V100 on driver
535 cannot run).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ...errors import MlwsError

REMOTE_DIST = "/mlws/dist"
CONSTRAINTS = '"$MLWS_CONSTRAINTS"'  # a file the setup itself writes on the node (mktemp)


def _name(requirement: str) -> str:
    """The normalized project name of a requirement line (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def project_requirements(workspace) -> list[str]:
    """The workspace project's [project].dependencies (without mlws itself: the node runs this machine's
    mlws). Raises MlwsError for a pyproject.toml that is not TOML or lists something that is no requirement."""
    path = Path(workspace) / "pyproject.toml"
    if not path.is_file():
        return []
    import tomllib

    try:
        project = tomllib.loads(path.read_text()).get("project") or {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MlwsError(
            f"{path}: not valid TOML ({e}); the cloud node's setup reads its [project].dependencies"
        ) from None
    deps = project.get("dependencies") or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise MlwsError(f"{path}: [project].dependencies must be a list of requirement strings")
    from packaging.requirements import InvalidRequirement, Requirement

    for dep in deps:
        try:
            Requirement(dep)
        except InvalidRequirement as e:
            raise MlwsError(f"{path}: [project].dependencies: {dep!r} is not a requirement ({e})") from None
    return [d for d in deps if _name(d) != "mlws"]


def notes(workspace) -> list[str]:
    """What the node's setup does not install, said at plan time."""
    root = Path(workspace)
    if (root / "setup.py").is_file() and not (root / "requirements.txt").is_file() and not project_requirements(root):
        return [
            "the node never builds this workspace (setup.py is not run): list its dependencies in "
            "requirements.txt or pyproject.toml's [project].dependencies"
        ]
    return []


# What a node installs of mlws's own dependencies, by task: the core (never SkyPilot, Ray, JupyterLab,
# Optuna where they are core), plus the task's extra. Each package is billed at GPU price × nodes on
# every setup and every spot recovery.
TASK_EXTRAS = {"train": (), "serve": ("serve",), "notebook": ("notebook",)}
NOT_ON_NODE = {
    "train": {"skypilot", "ray", "jupyterlab", "ipykernel", "optuna", "plotly", "pandas"},
    "serve": {"skypilot", "jupyterlab", "ipykernel", "optuna", "plotly", "pandas"},
    "notebook": {"skypilot", "ray", "optuna"},
}
_EXTRA = re.compile(r"""\s*(?:and\s+)?extra\s*==\s*["']([\w.-]+)["']\s*""")


def wheel_requirements(wheel) -> list[tuple[str, str | None]]:
    """(requirement, extra or None) for each Requires-Dist of the node's wheel (its METADATA; for a
    wheel not yet copied where the task mounts it from, `mlws plan -o DIR`, what it is made of)."""
    if Path(wheel).is_file():
        import zipfile

        with zipfile.ZipFile(wheel) as z:
            meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        reqs = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    else:
        from .wheel import _requirements, _root

        reqs = _requirements(_root())[0]
    out: list[tuple[str, str | None]] = []
    for r in reqs:
        req, _, marker = r.partition(";")
        found = _EXTRA.search(marker)
        if not found:
            out.append((r.strip(), None))
            continue
        rest = _EXTRA.sub(" ", marker).strip()
        rest = rest[1:-1].strip() if rest.startswith("(") and rest.endswith(")") else rest
        out.append((f"{req.strip()}; {rest}" if rest else req.strip(), found.group(1)))
    return out


def task_requirements(wheel, task: str) -> list[str]:
    """mlws's dependencies that a node running `task` (train, serve, notebook) needs."""
    return [
        r
        for r, extra in wheel_requirements(wheel)
        if (extra is None and _name(r) not in NOT_ON_NODE[task]) or extra in TASK_EXTRAS[task]
    ]


def node_install(c: dict, versions: dict, wheel, workspace=None, task: str = "train") -> tuple[dict, str]:
    """(file mounts, setup) that install this machine's torch and mlws (`wheel`) with what `task`
    needs of its dependencies, then the workspace's dependencies, on a node."""
    mounts = {f"{REMOTE_DIST}/{Path(wheel).name}": str(wheel)} if wheel else {}
    requirements = project_requirements(workspace) if workspace else []
    own = task_requirements(wheel, task) if wheel else None
    return mounts, setup_script(c, versions, Path(wheel).name if wheel else None, requirements, own)


def _wheel_version(wheel_name: str) -> str | None:
    parts = wheel_name.split("-")
    return parts[1] if len(parts) >= 5 else None


# exit 0 when the image's torch is VERSION built for BUILD (cu126, cpu; any: whichever build). Read from
# torch/version.py (torch.__version__ and torch.version.cuda are that file's), found without importing
# torch: `import torch` is 1-3 s of the setup (CUDA libraries loaded) where the image has it
HAS_TORCH = (
    "import sys, os, importlib.util; version, build = sys.argv[1:3]; found = importlib.util.find_spec('torch'); "
    "v = {}; exec(open(os.path.join(os.path.dirname(found.origin), 'version.py')).read(), v); "
    'cuda = v.get("cuda"); have = "cu" + cuda.replace(".", "") if cuda else "cpu"; '
    'sys.exit(0 if str(v["__version__"]).split("+")[0] == version and build in ("any", have) else 1)'
)


def index_build(index: str | None) -> str:
    """The torch build an index serves, from its last path part (…/whl/cu126 → cu126); any: unknown."""
    last = (index or "").rstrip("/").rsplit("/", 1)[-1]
    return last if re.fullmatch(r"cu\d+|cpu|rocm[\d.]+", last) else "any"


def setup_script(c: dict, versions: dict, wheel_name: str | None, requirements=(), own=None) -> str:
    """`own`: the wheel's dependencies for this task (then the wheel goes in with --no-deps); None: all.

    Three installer calls: torch (the image's own kept), the wheel (--no-deps), then everything else in
    ONE call: the task's share of mlws's dependencies, the workspace's, requirements.txt and compute.pip,
    one resolution instead of one per source, and one consistent set (a workspace requirement can no
    longer silently downgrade what an earlier call installed for mlws). torch stays a call of its own:
    its index must supply nothing else (it mirrors numpy, pillow, ... at older versions), and where it
    comes from the package sources (compute.torch_index=pypi), resolving it with the rest was slower on
    the simulated node (bench/bench_node_setup.py: 31-35 s against 20 s; the same CPU seconds)."""
    from .installer import PRELUDE
    from .torch_wheels import torch_index

    lines = [PRELUDE]  # defines mlws_pip: SkyPilot's uv where the node has it, else pip
    torch = (versions or {}).get("torch", "").split("+")[0]  # the laptop's torch, built for this node
    together: list[str] = []  # the one resolving call's requirements (shell words, quoted)
    if torch:
        index = torch_index(c, versions.get("torch"))
        build = index_build(index)
        # an image that already has this torch for these GPUs (a deep learning image) keeps it: the
        # download and unpacking of a 1-3 GB wheel is most of a setup, billed at GPU price
        kept = f"echo 'mlws: torch {torch} ({build}) is on this image: kept'"
        install = f"mlws_pip install torch=={torch}" + (f" --index-url {index}" if index else "")
        lines.append(
            f"if python -c {shlex.quote(HAS_TORCH)} {torch} {build} 2>/dev/null; then {kept}; else {install}; fi"
        )
    pins = ([f"torch=={torch}"] if torch else []) + (
        [f"mlws=={_wheel_version(wheel_name)}"] if wheel_name and _wheel_version(wheel_name) else []
    )
    lines.append(
        f"MLWS_CONSTRAINTS=$(mktemp) && printf '%s\\n' {' '.join(shlex.quote(p) for p in pins)} > {CONSTRAINTS}"
    )
    # the node runs the laptop's own mlws (a wheel of it, mounted), with what this task needs of its dependencies
    if wheel_name and own is not None:
        lines.append(f"mlws_pip install {REMOTE_DIST}/{wheel_name} --no-deps")
        together += [shlex.quote(r) for r in own]
    else:
        together.append(f"{REMOTE_DIST}/{wheel_name}" if wheel_name else "mlws")
    # the workspace's dependencies, never `pip install -e .` (its pyproject may not build)
    together += [shlex.quote(r) for r in requirements]
    together += [shlex.quote(str(p)) for p in c.get("pip") or []]
    # requirements.txt as it is, where the workdir has one (read on the node: it is the synced workdir's)
    lines.append("MLWS_REQUIREMENTS=; if [ -f requirements.txt ]; then MLWS_REQUIREMENTS=requirements.txt; fi")
    listed = bool(together)
    together.append('${MLWS_REQUIREMENTS:+-r "$MLWS_REQUIREMENTS"}')
    install = "mlws_pip install " + " ".join(together) + f" -c {CONSTRAINTS}"
    # an installer refuses a call without a requirement (nothing listed and no requirements.txt)
    lines.append(install if listed else f'if [ -n "$MLWS_REQUIREMENTS" ]; then {install}; fi')
    lines += [str(cmd) for cmd in c.get("setup") or []]
    body = "\n".join(lines)
    limit = c.get("setup_timeout_minutes")
    if not limit:
        return f"set -e\n{body}\n"
    # a hung install (a mirror that never answers) must not keep a GPU VM billing: cut it off. The
    # script is an argument, not stdin: a command that reads stdin must not swallow the rest of it.
    return f"set -e\ntimeout {int(limit)}m bash -e -c {shlex.quote(body)} </dev/null\n"
