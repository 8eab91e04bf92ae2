"""`mlws notebook`: a real JupyterLab server started here, its kernel driven over Jupyter's own
REST and websocket protocol; the notebook API and `%mlws` magic inside it; the idle policy; the
example notebook run end to end with nbclient; `compute=sky` through SkyPilot's validation."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ..support.helpers import REPO, clean_env, free_port, make_workspace, mlws, mlws_json, wait_for
from ..support.jupyter_ws import execute, request, start_kernel

pytestmark = [pytest.mark.jupyter]


def start(ws, env, *args, port=None):
    port = port or free_port()
    out = mlws("notebook", "--detach", "--port", str(port), *args, "--json", cwd=ws, env=env, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    state = json.loads((ws / ".mlws" / "notebooks" / json.loads(out.stdout)["name"] / "state.json").read_text())
    return state


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nb")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    out = mlws("train", "+experiment=model_12", "trainer.max_epochs=3", "logger=none", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return ws, env


@pytest.fixture(scope="module")
def server(trained):
    ws, env = trained
    state = start(ws, env, "--idle-minutes", "0")
    yield ws, env, state
    mlws("notebook", "stop", state["name"], cwd=ws, env=env)


def test_the_token_is_required_and_long(server):
    _, _, state = server
    assert len(state["token"]) >= 43 and state["url"].startswith("http://127.0.0.1:")
    assert request(state["url"], None, "/api/kernels")[0] == 403
    assert request(state["url"], "wrong-token", "/api/kernels")[0] == 403
    assert request(state["url"], None, "/api/contents", "POST", {"type": "notebook"})[0] == 403
    assert request(state["url"], state["token"], "/api/kernels")[0] == 200
    config = json.loads(Path(state["log"]).with_name("jupyter_config.json").read_text())
    assert config["ServerApp"]["disable_check_xsrf"] is False and config["ServerApp"]["ip"] == "127.0.0.1"
    assert oct(Path(state["log"]).with_name("jupyter_config.json").stat().st_mode & 0o777) == "0o600"
    ps = subprocess.run(["ps", "-o", "args=", "-p", str(state["pid"])], capture_output=True, text=True).stdout
    assert state["token"] not in ps  # never on a command line other users can read


def test_kernel_runs_the_notebook_api_against_real_runs(server):
    ws, env, state = server
    from sklearn.datasets import load_digits

    images = load_digits().images[:20].tolist()
    kernel = start_kernel(state["url"], state["token"])
    out = execute(
        state["url"],
        state["token"],
        kernel,
        f"""
import json, mlws
df = mlws.runs_frame()
run = mlws.load_run(1)
print(json.dumps({{"ids": df["id"].tolist(), "acc": df["metrics.val/acc"].tolist(),
                   "channels": df["params.model.net.channels"].tolist(), "experiment": run.experiment,
                   "pred": run.predict({images!r})["predictions"], "repr": repr(run)}}))
""",
    )
    got = json.loads(out.strip().splitlines()[-1])
    shown = mlws_json("show", "1", cwd=ws, env=env)
    assert got["ids"] == [1] and got["acc"] == [shown["metrics"]["val/acc"]]
    assert got["channels"] == [[32, 64]] and got["experiment"] == "model_12"
    assert got["repr"].startswith("<run 1: model_12 (succeeded) val/acc=")
    # the same answers as the model loaded here (and mlws serve: tests/e2e/test_serving.py)
    import torch

    from mlws.serving.loading import checkpoint_path, load_model

    model = load_model(shown["config"], checkpoint_path(shown))
    with torch.no_grad():
        local = model(torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 16).argmax(-1).tolist()
    assert got["pred"] == local


def test_mlws_magic_starts_a_real_run(server):
    ws, env, state = server
    kernel = start_kernel(state["url"], state["token"])
    out = execute(
        state["url"],
        state["token"],
        kernel,
        "%load_ext mlws\n%mlws train +experiment=model_01 trainer.max_epochs=1 logger=none",
        timeout=300,
    )
    assert "run 2" in out, out[-2000:]
    runs = mlws_json("runs", cwd=ws, env=env)
    assert [(r["id"], r["experiment"], r["status"]) for r in runs][-1] == (2, "model_01", "succeeded")
    out = execute(state["url"], state["token"], kernel, "%mlws show 99")
    assert "error: no run 99" in out and "(mlws show exited with code 2)" in out


def test_bad_input(server, tmp_path):
    ws, env, state = server
    busy = mlws("notebook", "--port", str(state["port"]), "--name", "second", "--detach", cwd=ws, env=env)
    assert busy.returncode == 2 and f"port {state['port']} on 127.0.0.1 is in use" in busy.stderr
    for cmd in (["status", "nope"], ["stop", "nope"]):
        out = mlws("notebook", *cmd, cwd=ws, env=env)
        assert out.returncode == 2 and "no notebook named 'nope' is running (running: local)" in out.stderr
    from mlws import api
    from mlws.errors import MlwsError

    with pytest.raises(MlwsError, match="no run 42"):
        api.load_run(42, workspace=ws)
    out = mlws("notebook", "--token-env", "MLWS_UNSET_TOKEN", "--detach", cwd=ws, env=env)
    assert out.returncode == 2 and "MLWS_UNSET_TOKEN: the variable is not set" in out.stderr
    short = mlws(
        "notebook", "--token-env", "SHORT", "--detach", "--port", str(free_port()), cwd=ws, env={**env, "SHORT": "abc"}
    )
    assert short.returncode == 2 and "at least 32 characters" in short.stderr


def test_notebook_list_and_status_say_why_it_is_active(server):
    ws, env, state = server
    listed = mlws_json("notebook", "list", cwd=ws, env=env)
    assert [(n["name"], n["link"]) for n in listed][:1] == [("local", f"{state['url']}/lab?token={state['token']}")]
    status = mlws_json("notebook", "status", "local", cwd=ws, env=env)
    assert "token" not in status and status["idle"]["active"] is True


def test_idle_server_stops_and_a_busy_one_does_not(trained):
    """Idle after 3 s without activity; the watcher checks every 0.5 s. A client polling the REST API
    (as an open browser tab does) is not activity; a running cell is."""
    ws, env = trained
    env = {**env, "MLWS_NOTEBOOK_CHECK_S": "0.5"}
    from mlws.jupyter.local import alive

    busy = start(ws, env, "--idle-minutes", "0.05", "--name", "busy")
    idle = None
    try:
        kernel = start_kernel(busy["url"], busy["token"])
        import threading

        cell = threading.Thread(
            target=execute,
            args=(busy["url"], busy["token"], kernel, "import time\ntime.sleep(12)\nprint('done')"),
            daemon=True,
        )
        cell.start()
        idle = start(ws, env, "--idle-minutes", "0.05", "--name", "idle")  # polled from its first second
        deadline, polled = time.monotonic() + 30, 0
        while alive(idle) and time.monotonic() < deadline:  # poll like a browser tab does
            try:
                polled += request(idle["url"], idle["token"], "/api/kernels")[0] == 200
                request(idle["url"], idle["token"], "/api/sessions")
            except ConnectionError:  # it stopped itself between alive() and the request
                pass
            time.sleep(0.3)
        assert not alive(idle) and polled >= 3  # it stopped itself while being polled
        status = json.loads((ws / ".mlws/notebooks/idle/status.json").read_text())
        assert status["stop"] is True and "no kernel ran, no terminal was used, no file was saved" in status["stopped"]
        assert alive(busy)  # past its idle limit, but a cell is running
        seen = json.loads((ws / ".mlws/notebooks/busy/status.json").read_text())
        assert any("is busy (a cell is running)" in r for r in seen["reasons"]), seen
        cell.join(timeout=30)
        wait_for(lambda: not alive(busy), timeout=30, what="the busy server to stop once idle")
        assert "idle" not in [n["name"] for n in mlws_json("notebook", "list", cwd=ws, env=env)]
    finally:
        for state in (idle, busy):
            if state and alive(state):
                os.killpg(state["pid"], signal.SIGKILL)


def test_example_notebook_runs_end_to_end(trained, tmp_path):
    """notebooks/tour.ipynb on a copy of the workspace, with a 1-epoch experiment."""
    import nbformat
    from nbclient import NotebookClient

    ws, env = trained
    nb = nbformat.read(REPO / "notebooks" / "tour.ipynb", as_version=4)
    nb.cells[1].source = "epochs = 1"
    old = dict(os.environ)
    os.environ.update({k: v for k, v in env.items()})
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ws)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    outputs = {
        i: "".join(o.get("text", "") for o in c.get("outputs", []))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
    }
    assert any(" wrong" in text and " of 300 wrong" in text for text in outputs.values()), outputs
    assert (ws / "experiments" / "model_13.yaml").is_file()
    runs = mlws_json("runs", cwd=ws, env=env)
    new = [r for r in runs if r["experiment"] == "model_13"]
    assert new and new[-1]["status"] == "succeeded"
    assert any("config: {'description':" in t and "'model.net.dropout': [0.2, 0.3]" in t for t in outputs.values())
    (ws / "experiments" / "model_13.yaml").unlink()  # the module's workspace stays as it was


def sky_notebook(ws, env, tmp, *args, record=None):
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    pre = ["--record", str(record)] if record else []
    return subprocess.run(
        [sys.executable, str(REPO / "tests" / "support" / "skypilot_fakes.py"), *pre, "--", "notebook", *args],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "HOME": str(home), "SKY_RUNTIME_DIR": str(home)},
    )


def test_fake_catalog_cloud_notebook_task(tmp_path):
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    out = sky_notebook(
        ws, env, tmp_path, "compute=sky", "compute.accelerators=V100:1", "--idle-minutes", "20", "--dry-run"
    )
    assert out.returncode == 0, out.stderr[-3000:]
    task = yaml.safe_load(out.stdout)  # the printed task (comment lines aside) is YAML
    assert task["resources"]["accelerators"] == "V100:1"
    assert task["resources"]["autostop"]["down"] is True and "ports" not in task["resources"]
    assert task["file_mounts"]["/mlws-work"]["mode"] == "MOUNT_CACHED"
    assert task["secrets"] == {"MLWS_NOTEBOOK_TOKEN": None}
    assert "--host 127.0.0.1" in task["run"] and "--idle-minutes 20.0" in task["run"]
    assert "chosen: AWS p3.2xlarge in us-east-1 × 1 node(s): $3.06/hour" in out.stdout
    exposed = sky_notebook(ws, env, tmp_path, "compute=sky", "compute.accelerators=V100:1", "--expose", "--dry-run")
    assert exposed.returncode == 0, exposed.stderr[-2000:]
    exposed_task = yaml.safe_load(exposed.stdout)
    assert exposed_task["resources"]["ports"] == [8888] and "--host 0.0.0.0" in exposed_task["run"]
    refused = sky_notebook(
        ws, {**env, "SHORT": "abc"}, tmp_path, "compute=sky", "--expose", "--token-env", "SHORT", "--dry-run"
    )
    assert refused.returncode == 2 and "token must have at least 32 characters (--expose never leaves" in refused.stderr
    bad = sky_notebook(ws, env, tmp_path, "compute=sky", "compute.accelerators=V1000:1", "--dry-run")
    assert bad.returncode == 2 and "no cloud offering matches" in bad.stderr


def test_recorded_api_cloud_notebook_launch_and_stop(tmp_path):
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    record = tmp_path / "api.json"
    out = sky_notebook(ws, env, tmp_path, "compute=sky", "compute.accelerators=V100:1", record=record)
    assert out.returncode == 0, out.stderr[-3000:]
    calls = json.loads(record.read_text())
    launch = [c for c in calls if c["path"] == "/launch"]
    from mlws.compute.sky.compile import workspace_tag

    cluster = f"mlws-notebook-sky-{workspace_tag(ws)}"  # per workspace and teammate
    assert len(launch) == 1 and launch[0]["json"]["cluster_name"] == cluster
    sent = launch[0]["json"]["task"]
    assert "MLWS_NOTEBOOK_TOKEN" in sent  # the token travels inline with the launch request,
    assert "managed_secrets" not in sent  # not as a managed-secret reference (refused without a provider)
    state = json.loads((ws / ".mlws/notebooks/sky/state.json").read_text())
    assert state["token"] in sent and len(state["token"]) >= 43
    assert re.search(rf"tunnel: ssh -N -L \d+:localhost:8888 {cluster}\b", out.stdout), out.stdout
    assert state["token"] not in out.stdout + out.stderr
    listed = sky_notebook(ws, env, tmp_path, "list", "--json")
    assert [(n["name"], n["cluster"]) for n in json.loads(listed.stdout)] == [("sky", cluster)]
    stopped = sky_notebook(ws, env, tmp_path, "stop", "sky", record=record)
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    assert [c["json"]["cluster_name"] for c in json.loads(record.read_text()) if c["path"] == "/down"] == [cluster]
    assert not (ws / ".mlws/notebooks/sky/state.json").exists()


def test_recorded_api_a_cloud_notebook_torn_down_by_autostop_is_reported_gone(tmp_path):
    """SkyPilot's status (recorded API) no longer knows the cluster: `status` says so and forgets it."""
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    record = tmp_path / "api.json"
    assert sky_notebook(ws, env, tmp_path, "compute=sky", "compute.accelerators=V100:1", record=record).returncode == 0
    out = sky_notebook(ws, env, tmp_path, "status", "sky", record=record)
    assert out.returncode == 0, out.stderr[-2000:]
    from mlws.compute.sky.compile import workspace_tag

    assert f"cluster mlws-notebook-sky-{workspace_tag(ws)} no longer exists (torn down when idle)" in out.stdout
    assert [c["path"] for c in json.loads(record.read_text())][:1] == ["/status"]
    assert not (ws / ".mlws/notebooks/sky/state.json").exists()
