"""The node's torch (issue 24, point 2): one table of torch version -> CUDA variants -> accelerators,
a plan-time check that the chosen index has a wheel for this torch and the node's Python (a package
index on loopback plays download.pytorch.org: pip's simple API over a folder), and torch pinned by a
constraints file while the workspace's own requirements install (real pip, tiny wheels on loopback)."""

import os
import subprocess
import venv

import pytest

from ..support.sim_node import PackageIndex
from ..support.skypilot_cli import V100x2, sky_mlws

pytestmark = [pytest.mark.sky]


@pytest.mark.parametrize(
    "torch, accelerators, expected",
    [
        ("2.13.0+cpu", None, "cpu"),
        ("2.13.0", "V100:2", "cu126"),  # CUDA 12.8+ builds dropped Volta
        ("2.13.0", {"A100": 8}, "cu126"),
        ("2.13.0", "B200:8", "cu129"),  # Blackwell: torch 2.13 publishes no cu128; cu126 has no sm_100
        ("2.13.0", "RTXPRO6000:1", "cu129"),
        ("2.8.0", "B200:8", "cu128"),
        ("2.7.1", "V100:1", "cu126"),
    ],
)
def test_one_table_decides_the_cuda_variant(torch, accelerators, expected):
    from mlws.compute.sky.torch_wheels import TORCH_CUDA, variant

    assert variant(torch, accelerators) == expected
    published = TORCH_CUDA["2.13"][0]
    assert "cu128" not in published and {"cu126", "cu129", "cu130", "cu132"} == set(published)


@pytest.fixture
def torch_index(tmp_path):
    served = PackageIndex(tmp_path / "whl")
    # what download.pytorch.org lists (only the names matter to the check)
    served.add("cu126/torch", "torch-2.13.0+cu126-cp310-cp310-manylinux_2_28_x86_64.whl")
    served.add("cu126/torch", "torch-2.12.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl")
    served.add("cu129/torch", "torch-2.13.0+cu129-cp311-cp311-manylinux_2_28_x86_64.whl")  # no cp310 build
    yield served
    served.close()


def test_the_index_is_checked_for_this_torch_and_the_nodes_python(torch_index, monkeypatch):
    from mlws.compute.sky import torch_wheels

    monkeypatch.setenv("MLWS_TORCH_INDEX_BASE", torch_index.url)
    assert torch_wheels.plan_notes({"accelerators": "V100:1"}, "2.13.0+cpu") == ([], None)
    notes, refusal = torch_wheels.plan_notes({"accelerators": "B200:8"}, "2.13.0")
    assert refusal.startswith(f"{torch_index.url}/cu129 has no torch 2.13.0 wheel for Python 3.10 on Linux x86_64")
    assert "cu126, cu129, cu130, cu132" in refusal
    _, refusal = torch_wheels.plan_notes({"accelerators": "V100:1"}, "2.14.0")
    assert "has no torch 2.14.0 wheel" in refusal
    _, refusal = torch_wheels.plan_notes({"torch_index": f"{torch_index.url}/cu128"}, "2.13.0")
    assert "answered HTTP 404" in refusal  # a variant that does not exist
    assert torch_wheels.plan_notes({"torch_index": "pypi"}, "2.13.0") == ([], None)  # not checked: pip's own index


def test_offline_the_plan_says_the_index_was_not_checked(monkeypatch):
    import time

    from mlws.compute.sky import torch_wheels

    monkeypatch.setenv("MLWS_TORCH_INDEX_BASE", "http://127.0.0.1:9/whl")  # nothing listens
    started = time.monotonic()
    notes, refusal = torch_wheels.plan_notes({"accelerators": "V100:1"}, "2.13.0")
    assert refusal is None and time.monotonic() - started < 3
    assert notes[0].startswith(
        "the node's torch index was not checked: could not check http://127.0.0.1:9/whl/cu126/torch/"
    )


def test_fake_catalog_a_missing_wheel_is_refused_at_plan_time_not_on_the_node(torch_index, ws, env, tmp_path):
    torch_index.add("cu126/torch", "torch-2.13.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl")
    (torch_index.folder / "cu126" / "torch" / "torch-2.13.0+cu126-cp310-cp310-manylinux_2_28_x86_64.whl").unlink()
    env = {**env, "MLWS_TORCH_INDEX_BASE": torch_index.url}
    out = sky_mlws(ws, env, tmp_path, "train", *V100x2, "--detach", record=tmp_path / "api.json")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert f"the node's torch: {torch_index.url}/cu126 has no torch 2.13.0 wheel for Python 3.10" in out.stderr
    assert not (ws / "runs").exists() or not any((ws / "runs").iterdir())  # nothing recorded
    planned = sky_mlws(ws, {**env, "MLWS_TORCH_INDEX_BASE": "http://127.0.0.1:9/whl"}, tmp_path, "plan", *V100x2)
    assert planned.returncode == 0 and "# note: the node's torch index was not checked" in planned.stdout


def test_an_unpinned_requirement_cannot_swap_the_nodes_torch(tmp_path):
    """The setup's own lines, run with pip in a fresh environment against tiny wheels on loopback: torch
    2.13.0 installed, then a requirement that wants another torch. Under the constraints file the setup
    fails at once instead of replacing the node's torch (PyPI's CUDA 13 build on a V100: unusable)."""
    from mlws.compute.sky.node_setup import setup_script

    index = PackageIndex(tmp_path / "index")
    try:
        for version in ("2.13.0", "2.14.0"):
            index.add_wheel("torch", version, "torch", f"__version__ = '{version}'\n")
        index.add_wheel("mlws", "0.1.0+abc", "mlws_stub")
        index.add_wheel("acme-vision", "1.0", "acme_vision", requires=["torch==2.14.0"])
        env_dir = tmp_path / "env"
        venv.EnvBuilder(with_pip=True).create(env_dir)
        dist = index.folder / "mlws"
        script = setup_script(
            {"torch_index": index.url}, {"torch": "2.13.0+cpu"}, "mlws-0.1.0+abc-py3-none-any.whl", ["acme-vision"]
        ).replace("/mlws/dist", str(dist))
        env = {
            "PATH": f"{env_dir / 'bin'}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": index.url,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_CACHE_DIR": "1",
        }
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode != 0 and "acme-vision" in done.stdout + done.stderr, done.stdout + done.stderr
        version = subprocess.run(
            [str(env_dir / "bin" / "python"), "-c", "import torch; print(torch.__version__)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert version.stdout.strip() == "2.13.0"  # the node's torch stayed
    finally:
        index.close()
