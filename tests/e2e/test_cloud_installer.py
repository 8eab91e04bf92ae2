"""The node's setup installs with SkyPilot's uv (~/.local/bin/uv, which SkyPilot's runtime puts on every
node) when it is there and no pip.conf would be bypassed; else with pip (issue 24, point 8: setup time).

The setup's lines run in bash as on the node; `uv` and `pip` are stand-ins that record their arguments
and the package-source variables they see (the network boundary). The real installs, with the real uv,
run on the simulated node (tests/e2e/test_cloud_node_setup.py, bench/bench_node_setup.py)."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from mlws.compute.sky.node_setup import setup_script

RECORD = '[ "$1" = --version ] && exit 0\necho "$(basename "$0") $* | ${UV_EXTRA_INDEX_URL:-} | ${UV_INDEX_STRATEGY:-} | ${SSL_CERT_FILE:-} | ${UV_LINK_MODE:-}" >> {calls}\n'


def stub(path: Path, calls: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/bash\n" + RECORD.replace("{calls}", str(calls)))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def constraints(call: str) -> str:
    """The constraints file an installer call was given (-c FILE)."""
    return call.split(" -c ")[1].split(" | ")[0]


def run_setup(
    tmp_path: Path, uv: bool, pip_conf: bool, compute: dict | None = None
) -> tuple[subprocess.CompletedProcess, list[str]]:
    home, calls = tmp_path / "home", tmp_path / "calls.txt"
    stub(tmp_path / "bin" / "pip", calls)
    if uv:
        stub(home / ".local" / "bin" / "uv", calls)
    python = tmp_path / "bin" / "python"  # an image without torch: the check fails, torch is installed
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://mirror.example/simple\n")
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "PIP_CONFIG_FILE": str(conf) if pip_conf else os.devnull,
        "PIP_EXTRA_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_CERT": "/etc/ssl/certs/team.pem",
    }
    (tmp_path / "requirements.txt").write_text("acme-extra\n")  # the workdir's own, installed as it is
    script = setup_script(
        compute or {}, {"torch": "2.13.0+cpu"}, "mlws-0.1.0-py3-none-any.whl", ["acme-dep==1.0"], ["rich>=13"]
    )
    done = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    return done, calls.read_text().splitlines() if calls.exists() else []


def test_a_node_with_skypilots_uv_installs_everything_with_it(tmp_path):
    done, calls = run_setup(tmp_path, uv=True, pip_conf=False)
    assert done.returncode == 0, done.stderr
    assert "mlws: installing with uv" in done.stdout
    python = str(tmp_path / "bin" / "python")  # the interpreter pip would have installed into
    # torch from its own index alone; the rest resolved together in one call (the wheel: --no-deps)
    assert [c.split(" | ")[0] for c in calls] == [
        f"uv pip install --python {python} torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
        f"uv pip install --python {python} /mlws/dist/mlws-0.1.0-py3-none-any.whl --no-deps",
        f"uv pip install --python {python} rich>=13 acme-dep==1.0 -r requirements.txt -c {constraints(calls[2])}",
    ]
    # pip's own variables reach uv: its extra index (with pip's best-version rule across indexes), its
    # cert, and uv's files hard-linked from its cache (not copied: torch written once)
    assert all(
        c.split(" | ")[1:] == ["http://127.0.0.1:9/simple", "unsafe-best-match", "/etc/ssl/certs/team.pem", "hardlink"]
        for c in calls
    )


def test_a_node_with_nothing_more_to_install_makes_no_empty_install(tmp_path):
    """The image's torch kept, no requirement listed, no requirements.txt: no installer call without a
    requirement (an installer refuses one); with a requirements.txt, one call for it."""
    python = tmp_path / "bin" / "python"  # an image with the run's torch: the check passes
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 0\n")
    python.chmod(0o755)
    calls = tmp_path / "calls.txt"
    stub(tmp_path / "home" / ".local" / "bin" / "uv", calls)
    script = setup_script({"torch_index": "pypi"}, {"torch": "2.13.0+cpu"}, "mlws-0.1.0-py3-none-any.whl", [], [])
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path / "home"), "PIP_CONFIG_FILE": os.devnull}
    done = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "is on this image: kept" in done.stdout
    assert [c.split(" | ")[0].split(" --python ")[1].split(" ", 1)[1] for c in calls.read_text().splitlines()] == [
        "/mlws/dist/mlws-0.1.0-py3-none-any.whl --no-deps"
    ]
    calls.unlink()
    (tmp_path / "requirements.txt").write_text("acme-extra\n")
    done = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [
        c.split(" | ")[0].split(" --python ")[1].split(" ", 1)[1].split(" -c ")[0]
        for c in calls.read_text().splitlines()
    ] == [
        "/mlws/dist/mlws-0.1.0-py3-none-any.whl --no-deps",
        "-r requirements.txt",
    ]


@pytest.mark.parametrize("uv, pip_conf", [(False, False), (True, True)], ids=["no-uv-on-the-node", "a-pip-conf"])
def test_pip_installs_where_there_is_no_uv_or_a_pip_conf_that_uv_would_not_read(uv, pip_conf, tmp_path):
    done, calls = run_setup(tmp_path, uv=uv, pip_conf=pip_conf)
    assert done.returncode == 0, done.stderr
    assert "mlws: installing with pip" in done.stdout
    assert [c.split(" | ")[0].split(" -c ")[0] for c in calls] == [
        "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
        "pip install /mlws/dist/mlws-0.1.0-py3-none-any.whl --no-deps",
        "pip install rich>=13 acme-dep==1.0 -r requirements.txt",
    ]


def test_a_failing_install_fails_the_setup(tmp_path):
    """uv runs in a subshell of a function: its failure must still stop the setup (set -e)."""
    uv = tmp_path / "home" / ".local" / "bin" / "uv"
    uv.parent.mkdir(parents=True)
    uv.write_text("#!/bin/sh\n[ \"$1\" = --version ] && exit 0\necho 'no such package' >&2\nexit 2\n")
    uv.chmod(0o755)
    script = setup_script({}, {"torch": "2.13.0+cpu"}, "mlws-0.1.0-py3-none-any.whl", [], [])
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "PIP_CONFIG_FILE": os.devnull}
    done = subprocess.run(
        ["bash", "-c", script + "echo reached\n"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2 and "reached" not in done.stdout and "no such package" in done.stderr
