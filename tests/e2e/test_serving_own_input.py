"""`mlws serve` in the foreground, bound with --host, with the workspace's own input hook
(`serve.input._target_`): a real Ray Serve over real HTTP, stopped with Ctrl-C (SIGINT)."""

import http.client
import json
import signal
import subprocess
import sys

import pytest

from ..support.helpers import free_port, mlws, wait_for
from ..support.serving_client import digits

pytestmark = [pytest.mark.serve]

OWN_INPUT = '''
import torch

from mlws.serving.inputs import BadRequest


class PixelsInput:
    """A sample is {"pixels": [64 numbers]}: the team's own request format."""

    def __init__(self, **ignored):
        self.shape = (1, 8, 8)

    def __call__(self, samples):
        rows = []
        for i, s in enumerate(samples):
            if not isinstance(s, dict) or len(s.get("pixels") or []) != 64:
                raise BadRequest(422, f"inputs[{i}]: expected {{\\"pixels\\": [64 numbers]}}")
            rows.append([float(v) for v in s["pixels"]])
        return torch.tensor(rows).reshape(len(rows), 1, 8, 8) / 16.0  # scaled as the model was trained
'''


def request(host, port, method, path, body=None):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request(method, path, body=body, headers={"content-type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def test_foreground_server_on_another_host_with_the_workspaces_own_input_hook(ws, env):
    (ws / "acme_inputs.py").write_text(OWN_INPUT)
    out = mlws(
        "train",
        "+experiment=model_12",
        "trainer.max_epochs=3",
        "logger=none",
        "serve.input._target_=acme_inputs.PixelsInput",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    host, port = "127.0.0.2", free_port()  # another loopback address than the default
    server = subprocess.Popen(
        [sys.executable, "-m", "mlws.cli.main", "serve", "1", "--host", host, "--port", str(port)],
        cwd=ws,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def healthy():
            try:
                return request(host, port, "GET", "/health")[0] == 200
            except OSError:
                assert server.poll() is None, server.stdout.read()[-3000:]
                return False

        wait_for(healthy, 300, interval=1, what="the foreground server")
        images, targets = digits(20)
        samples = [{"pixels": [v for row in img for v in row]} for img in images]
        status, body = request(host, port, "POST", "/predict", json.dumps({"inputs": samples}))
        assert status == 200, body
        predictions = json.loads(body)["predictions"]
        assert sum(p == t for p, t in zip(predictions, targets)) >= 18
        status, body = request(host, port, "POST", "/predict", json.dumps({"inputs": [images[0]]}))
        assert status == 422 and b'expected {\\"pixels\\"' in body, body
        server.send_signal(signal.SIGINT)  # Ctrl-C
        assert server.wait(timeout=120) == 130  # as a shell reports a command ended by Ctrl-C
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    try:
        request(host, port, "GET", "/health")
        raise AssertionError("the server still answers after Ctrl-C")
    except OSError:
        pass
