"""mlws's cloud tasks through a REAL SkyPilot API server (tests/support/sky_api_server.py): SkyPilot's own
server, started offline in a temporary HOME on the synthetic catalog, runs its server-side launch
checks (task, secrets, resources, optimizer, file mounts uploaded) in a dry run. The only fakes are
the calls that need AWS itself (credentials, identity, zones, an AMI's root device), inside the
server's processes. Nothing is provisioned: SkyPilot stops at "Dryrun finished"."""

import json
import subprocess
import sys

import pytest
import yaml

from ..support.helpers import REPO, mlws
from ..support.sky_api_server import start, stop

pytestmark = [pytest.mark.slow, pytest.mark.sky]
SKY = REPO / ".venv" / "bin" / "sky"
V100 = [
    "+experiment=model_12",
    "compute=sky",
    "compute.infra=aws",
    "compute.accelerators=V100:1",
    "compute.secrets=[HF_TOKEN]",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    info = start(tmp_path_factory.mktemp("sky-server") / "home")
    yield info
    stop(info)


def sky(server, cwd, *args):
    return subprocess.run([str(SKY), *args], cwd=cwd, env=server["env"], capture_output=True, text=True, timeout=300)


def test_a_planned_task_passes_skypilots_server_side_dry_run(server, ws, env, tmp_path):
    client_env = {**env, **{k: v for k, v in server["env"].items() if k in ("SKYPILOT_API_SERVER_ENDPOINT", "HOME")}}
    out = mlws("plan", *V100, "-o", str(tmp_path / "plan"), cwd=ws, env=client_env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "--secret HF_TOKEN" in out.stdout
    # no cloud is enabled on this side: the price comes from the optimizer on the API server
    assert "chosen: AWS p3.2xlarge in us-east-1 × 1 node(s): $3.06/hour" in out.stdout, out.stdout[-1500:]
    task = yaml.safe_load((tmp_path / "plan" / "task.yaml").read_text())
    wheel = [m for m in task["file_mounts"] if m.startswith("/mlws/dist/")]
    assert len(wheel) == 1 and (tmp_path / "plan" / wheel[0].rsplit("/", 1)[1]).is_file()  # mlws travels along

    launched = sky(
        server, ws, "launch", "--dryrun", "-y", "--secret", "HF_TOKEN=hf_x", str(tmp_path / "plan" / "task.yaml")
    )
    assert launched.returncode == 0, (launched.stdout + launched.stderr)[-3000:]
    text = launched.stdout + launched.stderr
    assert "Dryrun finished." in text and "p3.2xlarge" in text  # the server's optimizer chose the V100 host

    # the server refuses a secret left without a value (a managed-secret reference in 0.14)
    unset = sky(server, ws, "launch", "--dryrun", "-y", str(tmp_path / "plan" / "task.yaml"))
    assert unset.returncode != 0 and "No value available for secret(s): HF_TOKEN" in unset.stdout + unset.stderr

    # the task as printed without -o mounts a spec that only exists once mlws records the run
    printed = mlws("plan", *V100, cwd=ws, env=client_env).stdout.split("# chosen:")[0].split("# price")[0]
    (tmp_path / "printed.yaml").write_text(printed)
    refused = sky(server, ws, "launch", "--dryrun", "-y", "--secret", "HF_TOKEN=x", str(tmp_path / "printed.yaml"))
    assert "File mount source 'runs/N/spec.json' does not exist locally" in refused.stdout + refused.stderr


def test_the_server_is_the_one_answering(server):
    """The dry runs above went through this server: its request table holds them."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sky, json; print(json.dumps([r.name for r in sky.api_status(all_status=True)]))",
        ],
        env=server["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "sky.launch" in json.loads(out.stdout)
