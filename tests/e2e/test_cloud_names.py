"""Names on SkyPilot that two workspaces, or two teammates, never share (issue 24, point 10): a run's
job/cluster and its bucket-less run directory carry its unique id; a server's and a notebook's cluster a
tag of the user, machine and workspace. Run 1 of one workspace must never reuse another's cluster, or
resume its last.ckpt from a reused cluster's workdir."""

import pytest

from ..support.helpers import make_workspace

pytestmark = [pytest.mark.sky]


def _task(ws, **compute):
    from mlws import api
    from mlws.compute.sky.compile import compile_task

    spec = api.plan(
        [
            "+experiment=model_12",
            "compute=sky",
            "compute.managed=false",
            *[f"compute.{k}={v}" for k, v in compute.items()],
        ],
        workspace=ws,
    )
    return compile_task(spec.with_run(1, str(ws / "runs" / "1")))


def test_two_workspaces_run_1_get_their_own_cluster_and_run_directory(tmp_path):
    from mlws.compute.sky.compile import compile_notebook_task, compile_serve_task

    a, b = make_workspace(tmp_path / "a", git=False), make_workspace(tmp_path / "b", git=False)
    ta, tb = _task(a), _task(b)
    assert ta["name"].startswith("mlws-1-") and ta["name"] != tb["name"]
    assert ta["envs"]["MLWS_RUN_DIR"].startswith("runs/1-") and ta["envs"]["MLWS_RUN_DIR"] != tb["envs"]["MLWS_RUN_DIR"]
    assert _task(a)["name"] != ta["name"]  # run 1 again after `make clean`: another run, another cluster
    serve = [compile_serve_task({}, str(ws), 1, "/x/args.json", "/x/w.safetensors", 8000)["name"] for ws in (a, b)]
    assert serve[0].startswith("mlws-serve-1-") and serve[0] != serve[1]
    notebooks = [compile_notebook_task({}, str(ws), "sky", 8888, 30.0, False, "s")["name"] for ws in (a, b)]
    assert notebooks[0].startswith("mlws-notebook-sky-") and notebooks[0] != notebooks[1]
    # the same workspace names the same server and notebook clusters (serve stop, notebook down find them)
    assert compile_notebook_task({}, str(a), "sky", 8888, 30.0, False, "s")["name"] == notebooks[0]
    # SkyPilot's own name check accepts them
    from sky.utils import common_utils

    for name in (ta["name"], serve[0], notebooks[0]):
        common_utils.check_cluster_name_is_valid(name)
