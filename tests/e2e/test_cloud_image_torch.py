"""A node image that already has the run's torch, built for the node's GPUs (a deep learning image),
keeps it: the setup's first line checks with the image's own python and installs only when it must.

The line runs in bash as on the node, with this machine's python (torch 2.13.0, a CPU build) as the
image's. `pip` is a stand-in that records its arguments: the network boundary (a download of torch)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mlws.compute.sky.node_setup import setup_script


def first_line(compute: dict, torch: str) -> str:
    """The torch line, after the line that picks the installer (pip here: this node has no uv)."""
    return "\n".join(setup_script(compute, {"torch": torch}, "mlws-0.1.0-py3-none-any.whl", [], []).splitlines()[1:3])


def run_on_image(line: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "pip-calls.txt"
    pip = bin_dir / "pip"
    pip.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    pip.chmod(pip.stat().st_mode | stat.S_IEXEC)
    python = bin_dir / "python"  # the image's python, with its torch
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(["bash", "-e", "-c", line], env=env, capture_output=True, text=True, timeout=120)
    return done, calls.read_text() if calls.exists() else ""


@pytest.mark.parametrize(
    "compute, torch, installs",
    [
        ({}, "2.13.0+cpu", None),  # a CPU node: the image's CPU build is the one wanted
        ({"torch_index": "pypi"}, "2.13.0", None),  # no build asked for: the version decides
        ({"accelerators": "V100:1"}, "2.13.0+cpu", "torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"),
        ({}, "2.12.1+cpu", "torch==2.12.1 --index-url https://download.pytorch.org/whl/cpu"),  # another version
    ],
)
def test_the_images_torch_is_kept_only_when_it_is_the_runs(compute, torch, installs, tmp_path):
    import torch as here

    assert here.__version__.split("+")[0] == "2.13.0" and here.version.cuda is None  # the image this test plays
    done, calls = run_on_image(first_line(compute, torch), tmp_path)
    assert done.returncode == 0, done.stderr
    if installs is None:
        assert calls == "" and f"torch {torch.split('+')[0]}" in done.stdout and "kept" in done.stdout
    else:
        assert calls.strip() == f"install {installs}" and "kept" not in done.stdout


def test_an_image_without_torch_installs_it(tmp_path):
    done, calls = run_on_image(first_line({}, "2.13.0+cpu").replace("python -c", "python -I -S -c"), tmp_path)
    assert (
        done.returncode == 0
        and calls.strip() == "install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
    )
