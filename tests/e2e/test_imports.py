"""`mlws --help`, `mlws runs` and `mlws show` stay light: no torch, lightning, ray, sky or wandb."""

import json
import subprocess
import sys

import pytest

from ..support.helpers import HEAVY

PROBE = """
import json, sys
from mlws.cli.main import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = {heavy!r}
print("MODULES=" + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["runs"],
        ["runs", "--json"],
        ["check", "--help"],
        ["plan", "+experiment=model_01"],
        ["diff", "--help"],
        ["lineage", "--all"],
    ],
)
def test_light_commands_do_not_import_heavy_libraries(argv, ws, env):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [l for l in out.stdout.splitlines() if l.startswith("MODULES=")]
    assert line, out.stdout + out.stderr
    assert json.loads(line[0].removeprefix("MODULES=")) == []


def test_probe_detects_heavy_imports(ws, env):
    """The probe itself can fail: importing torch before the check shows up."""
    probe = "import torch\n" + PROBE.format(argv=["--help"], heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ws, env=env, capture_output=True, text=True, timeout=120)
    assert '"torch"' in out.stdout


def test_api_names_are_not_shadowed_by_subpackages():
    """`mlws.train` and friends stay the API functions even after mlws's subpackages are imported."""
    import importlib
    import pkgutil

    import mlws

    for info in pkgutil.walk_packages(mlws.__path__, "mlws."):  # every module, as any command might
        importlib.import_module(info.name)
    import mlws.api

    for name in mlws.__all__:
        assert callable(getattr(mlws, name)) and getattr(mlws, name) is getattr(mlws.api, name), name
        assert getattr(mlws, name).__module__.startswith(("mlws.api", "mlws.ops.")), name


def _seed(ws):
    """Runs of every built-in backend, two of them still running elsewhere, straight into the registry."""
    from mlws.registry import open_registry
    from mlws.spec import RunSpec
    from mlws.workspace import Workspace

    registry = open_registry(Workspace(ws).registry_url)
    for i, (target, status) in enumerate(
        [
            ("mlws.compute.local.LocalBackend", "succeeded"),
            ("mlws.compute.ray.RayBackend", "running"),
            ("mlws.compute.sky.SkyBackend", "running"),
        ]
    ):
        spec = RunSpec(
            experiment="model_01",
            overrides=("+experiment=model_01",),
            config={"compute": {"_target_": target}, "model": {"lr": 0.1 * (i + 1)}},
            workspace=str(ws),
            command="mlws train",
            created_at="2026-01-01T00:00:00+00:00",
        )
        run_id = registry.create(spec, "", target.split(".")[2], run_dir_for=lambda n: str(ws / "runs" / str(n)))
        estimate = {"available": True, "hourly_price": 3.06, "instance_type": "p3.2xlarge"}
        registry.update(run_id, pid=None, artifacts={"compute": {"job_id": 7}, "estimate": estimate})
        if status != "running":
            registry.finish(run_id, status, metrics={"val/acc": 0.9})


@pytest.mark.parametrize(
    "argv", [["runs"], ["runs", "--json"], ["show", "2"], ["show", "3", "--json"], ["diff", "1", "2"], ["lineage", "2"]]
)
def test_reading_a_registry_with_remote_runs_imports_no_backend_library(argv, ws, env):
    """Reading never asks a cluster or cloud, so it never imports ray or sky (costs come from the record)."""
    _seed(ws)
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [l for l in out.stdout.splitlines() if l.startswith("MODULES=")]
    assert line and "error" not in out.stderr, out.stdout + out.stderr
    assert json.loads(line[0].removeprefix("MODULES=")) == []
    if argv == ["runs", "--json"]:
        rows = json.loads(out.stdout.split("MODULES=")[0])
        assert [r["backend"] for r in rows] == ["local", "ray", "sky"] and rows[2]["cost"]["hourly_price"] == 3.06


def test_one_list_of_public_names():
    """mlws/__init__.py's __all__ is the list; mlws.api exports exactly it, and every public function
    the API module defines or imports is on it (the sweep functions were missing once)."""
    import types

    import mlws
    import mlws.api

    assert mlws.api.__all__ == mlws.__all__
    public = {n for n, v in vars(mlws.api).items() if not n.startswith("_") and isinstance(v, types.FunctionType)}
    assert public == set(mlws.__all__), public ^ set(mlws.__all__)
    assert mlws.sweep is mlws.api.sweep and mlws.resume_sweep is mlws.api.resume_sweep
