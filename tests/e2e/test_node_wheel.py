"""The wheel of the running mlws that a cloud node installs (mlws/compute/sky/wheel.py): pip accepts
it, it carries mlws and its Hydra launcher plugin and the installed metadata's dependencies, and the
same code gives the same cached wheel."""

import subprocess
import sys
import zipfile

from mlws.compute.sky.wheel import build


def test_the_node_wheel_installs_and_imports_and_is_cached(tmp_path):
    wheel = build(cache=tmp_path / "cache")
    assert build(cache=tmp_path / "cache") == wheel  # the same content: the cached wheel
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlws/worker.py" in names and "hydra_plugins/mlws_launcher/mlws_launcher.py" in names
    assert "mlws/conf/trainer/default.yaml" in names and not any("__pycache__" in n for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Requires-Dist: torch>=2.4" in meta and "Requires-Dist: lightning" in meta  # a range: the node pins its own
    # the content is in the version: pip keeps an installed wheel of an equal version, so a reused
    # cluster with an older build would keep the old code
    content = wheel.parent.name
    assert wheel.name.endswith(f"+{content}-py3-none-any.whl") and "Version: " in meta and f"+{content}" in meta
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "mlws = mlws.cli.main:main" in entry_points  # the `mlws` command on the node too
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr  # pip checks the RECORD's hashes
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mlws.worker, hydra_plugins.mlws_launcher as l; print(mlws.worker.__file__, l.__file__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert where.returncode == 0 and where.stdout.count(str(target)) == 2, where.stderr
