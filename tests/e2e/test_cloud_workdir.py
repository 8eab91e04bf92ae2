"""What a cloud launch uploads from the workspace (issue 24, point 9). SkyPilot's client zips the workdir
for its API server with SkyPilot's own exclude rules (storage_utils.zip_files_and_folders, called here
as the client calls it): outside git, a .gitignore is not read, so runs/ (checkpoints), .mlws/ (the
registry, notebook tokens) and .venv went up unless a .skyignore says otherwise."""

import zipfile

import pytest

from ..support.helpers import make_workspace
from ..support.skypilot_cli import V100x2, sky_mlws

pytestmark = [pytest.mark.sky]


def uploaded(ws, tmp_path) -> set[str]:
    """The workspace's files as SkyPilot's client zips them for the API server."""
    from sky.data import storage_utils

    archive = tmp_path / "upload.zip"
    storage_utils.zip_files_and_folders([str(ws)], archive, relative_to_items=True)
    names = zipfile.ZipFile(archive).namelist()
    return {n.split("/", 1)[1] for n in names if "/" in n and n.split("/", 1)[1]}


def test_write_skyignore_is_what_skypilot_excludes_by(tmp_path):
    from mlws.compute.sky.workdir import write_skyignore

    ws = make_workspace(tmp_path / "ws", git=False)
    for folder in ("runs/1/checkpoints", ".mlws", ".venv/bin"):
        (ws / folder).mkdir(parents=True)
        (ws / folder / "x").write_text("x")
    assert {"runs/1/checkpoints/x", ".mlws/x"} <= uploaded(ws, tmp_path)  # without it: everything
    assert write_skyignore(ws) and not write_skyignore(ws)  # never over an existing one
    files = uploaded(ws, tmp_path)
    assert not any(f.startswith(("runs", ".mlws", ".venv")) for f in files) and "conf/config.yaml" in files


def test_fake_catalog_a_launch_outside_git_without_skyignore_warns_and_leaves_out_mlws_folders(env, tmp_path):
    ws = make_workspace(tmp_path / "ws", git=False)
    (ws / ".venv").mkdir()
    (ws / ".venv" / "big.bin").write_bytes(b"x" * 100)
    planned = sky_mlws(ws, env, tmp_path, "plan", *V100x2)
    assert "is not a git repository and has no .skyignore: a launch writes one" in planned.stdout
    assert not (ws / ".skyignore").exists()  # a plan changes nothing
    out = sky_mlws(ws, env, tmp_path, "train", *V100x2, "--detach", record=tmp_path / "api.json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "warning:" in out.stderr and "is not a git repository and had no .skyignore" in out.stderr
    assert (ws / "runs" / "1" / "spec.json").is_file() and (ws / ".mlws" / "registry.db").is_file()
    files = uploaded(ws, tmp_path)
    assert not any(f.startswith(("runs", ".mlws", ".venv")) for f in files), sorted(files)
    assert "conf/config.yaml" in files and "experiments/model_12.yaml" in files


def test_fake_catalog_a_git_workspace_is_left_as_it_is(ws, env, tmp_path):
    out = sky_mlws(ws, env, tmp_path, "train", *V100x2, "--detach", record=tmp_path / "api.json")
    assert out.returncode == 0 and "skyignore" not in out.stderr, out.stderr[-2000:]
    assert not (ws / ".skyignore").exists()
    assert not any(f.startswith(("runs", ".mlws")) for f in uploaded(ws, tmp_path))  # git's ignores apply


def test_mlws_init_writes_a_skyignore(env, tmp_path):
    from ..support.helpers import mlws

    repo = tmp_path / "repo"
    repo.mkdir()
    done = mlws("init", "--name", "acme", cwd=repo, env=env)
    assert done.returncode == 0 and ".skyignore" in done.stdout, done.stderr
    assert {"runs/", ".mlws/", ".venv/"} <= set((repo / ".skyignore").read_text().split())
