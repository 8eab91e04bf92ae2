"""`mlws --help`, `mlws runs` and `mlws show` stay light: no torch, lightning, ray, sky or wandb."""
import json
import subprocess
import sys

import pytest

from .helpers import HEAVY

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


@pytest.mark.parametrize("argv", [["--help"], ["runs"], ["runs", "--json"], ["check", "--help"],
                                  ["plan", "+experiment=model_01"], ["diff", "--help"], ["lineage", "--all"]])
def test_light_commands_do_not_import_heavy_libraries(argv, ws, env):
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)], cwd=ws, env=env,
                         capture_output=True, text=True, timeout=120)
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
