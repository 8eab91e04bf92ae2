"""A cloud notebook's SSH tunnel (issue 24, point 4): from a free local port (the notebook's port is
often taken here: 8888 by a local Jupyter), and with a remote API server, which writes no ~/.ssh/config
entries on this machine, the one SkyPilot command that writes them (`sky status CLUSTER`) first.
Fake catalog and recorded API: nothing reaches a cloud, and no tunnel is opened."""

import json
import socket

import pytest

from ..support.skypilot_cli import sky_mlws

pytestmark = [pytest.mark.sky]


def _taken():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def _free() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_tunnel_starts_from_a_free_local_port(ws, env, tmp_path):
    taken = _taken()
    try:
        port = taken.getsockname()[1]
        out = sky_mlws(
            ws, env, tmp_path, "notebook", "compute=sky", "compute.cpus=8", "--port", str(port), "--dry-run", "--json"
        )
        assert out.returncode == 0, out.stderr[-2000:]
        tunnel = json.loads(out.stdout)["tunnel"]
        local = int(tunnel.split(" -L ")[1].split(":")[0])
        assert local != port and tunnel.endswith(f":localhost:{port} {json.loads(out.stdout)['cluster']}")
        assert tunnel.startswith("ssh -N -L ")  # a local API server writes SkyPilot's ssh entries itself
        with socket.socket() as s:
            s.bind(("127.0.0.1", local))  # free here
    finally:
        taken.close()


def test_a_remote_api_server_gets_the_command_that_writes_the_ssh_entry(ws, env, tmp_path):
    """A dry run (the recorded API does not take the SDK's file upload to a remote server)."""
    remote = {**env, "SKYPILOT_API_SERVER_ENDPOINT": f"http://127.0.0.1:{_free()}"}  # a team's server (recorded)
    out = sky_mlws(
        ws,
        remote,
        tmp_path,
        "notebook",
        "compute=sky",
        "compute.cpus=8",
        "--port",
        "8899",
        "--dry-run",
        "--json",
        record=tmp_path / "api.json",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["tunnel"].startswith(f"sky status {result['cluster']} >/dev/null && ssh -N -L ")
    assert result["tunnel"].endswith(f":localhost:8899 {result['cluster']}")


def test_a_launched_notebook_is_reached_at_the_tunnels_local_port(ws, env, tmp_path):
    taken = _taken()
    try:
        port = taken.getsockname()[1]
        out = sky_mlws(
            ws,
            env,
            tmp_path,
            "notebook",
            "compute=sky",
            "compute.cpus=8",
            "--port",
            str(port),
            record=tmp_path / "api.json",
        )
        assert out.returncode == 0, out.stderr[-2000:]
        line = next(l for l in out.stdout.splitlines() if l.startswith("tunnel: "))
        local = line.split(" -L ")[1].split(":")[0]
        assert int(local) != port and f": http://localhost:{local}/lab" in out.stdout
    finally:
        taken.close()
