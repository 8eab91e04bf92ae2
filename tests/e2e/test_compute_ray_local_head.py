"""compute=ray with no address: mlws starts a Ray head on this machine on demand (real `ray start
--head --block` on free ports), reuses it for the next run, and stopping it ends only its processes."""

import json

import pytest

from ..support.helpers import mlws, mlws_json
from ..support.ray_cluster import head_alive, isolated_ray_env

pytestmark = [pytest.mark.ray]


def test_a_local_head_is_started_on_demand_and_reused(ws, env):
    from mlws.compute.ray.head import healthy, stop_local_head

    renv = isolated_ray_env(env)
    state_file = ws / ".mlws" / "ray-head.json"
    try:
        first = mlws(
            "train",
            "+experiment=model_01",
            "trainer.max_epochs=1",
            "logger=none",
            "compute=ray",
            cwd=ws,
            env=renv,
            timeout=600,
        )
        assert first.returncode == 0, first.stderr[-3000:]
        state = json.loads(state_file.read_text())
        assert healthy(state["address"]) and head_alive(state)
        second = mlws(
            "train",
            "+experiment=model_02",
            "trainer.max_epochs=1",
            "logger=none",
            "compute=ray",
            "--detach",
            cwd=ws,
            env=renv,
            timeout=600,
        )
        assert second.returncode == 0 and state["address"] in second.stdout, second.stderr[-3000:]
        assert json.loads(state_file.read_text())["pid"] == state["pid"]  # the same head
        from ..support.helpers import wait_for

        wait_for(
            lambda: mlws_json("show", "2", "--refresh", cwd=ws, env=renv)["status"] != "running",
            300,
            interval=2,
            what="run 2 to end",
        )
        runs = mlws_json("runs", cwd=ws, env=renv)
        assert [(r["id"], r["status"], r["backend"]) for r in runs] == [
            (1, "succeeded", "ray"),
            (2, "succeeded", "ray"),
        ]
    finally:
        stop_local_head(ws / ".mlws")
    assert not head_alive(state) and not healthy(state["address"])
