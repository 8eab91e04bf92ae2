"""`mlws serve` attacked as a stranger on the network would: slow bodies, a chunked flood, idle
connections, a foreign Host header (DNS rebinding), plus what the CLI refuses (an open public
server) and the state it leaves (cloud servers listed and stopped). Real `mlws serve` over real
HTTP on 127.0.0.1; every attack is bounded in connections, bytes and seconds and ends by itself.
The cloud cases use SkyPilot's recorded API (tests/support/skypilot_fakes.py): wiring, not a cloud."""

import http.client
import json
import select
import socket
import stat
import time
from pathlib import Path

import pytest
import yaml

from ..support.helpers import (
    clean_env,
    free_port,
    make_workspace,
    mlws,
    mlws_json,
    stop_what_the_workspace_started,
    wait_for,
)
from ..support.serving_client import digits

pytestmark = [pytest.mark.serve]

BODY_TIMEOUT_S = 3  # the served run's deadline for a whole body (the default is 10 s)
SLOW = 80  # more slow bodies than a replica had slots (64): today they froze the whole server


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """A detached server with no token on 127.0.0.1 (the default), its body deadline shortened."""
    tmp = tmp_path_factory.mktemp("open")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    out = mlws(
        "train",
        "+experiment=model_01",
        "trainer.max_epochs=1",
        "logger=none",
        f"+serve.body_timeout_s={BODY_TIMEOUT_S}",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    port = free_port()
    started = mlws("serve", "1", "--port", str(port), "--detach", cwd=ws, env=env, timeout=400)
    assert started.returncode == 0, started.stderr[-3000:]
    yield ws, env, port, started
    mlws("serve", "stop", "1", cwd=ws, env=env, timeout=120)  # (a test may have stopped it already)
    stop_what_the_workspace_started(ws)  # when the CLI could not stop it


def request(port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def status_line(sock: socket.socket, timeout: float) -> int | None:
    """The status code a raw connection gets within `timeout` seconds (None: nothing, or closed)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            part = sock.recv(4096)
            if not part:
                break
            data += part
    except OSError:
        return None
    return int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else None


def connect(port) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def test_progress_in_mlws_words_and_ray_lines_only_in_the_log(open_server):
    ws, _, _, started = open_server
    for step in ("starting Ray", "starting the HTTP proxy", "loading the model's weights", "deployment ready"):
        assert step in started.stdout, started.stdout
    assert "INFO" not in started.stdout and "Application 'run-1' is ready" not in started.stdout
    assert "Application 'run-1' is ready" in (ws / ".mlws/serve/run-1.log").read_text()  # Ray's lines: the log


def test_slow_bodies_do_not_stall_the_server(open_server):
    """SLOW connections send headers and 4 bytes of a 1000-byte body, 20 stop inside their headers,
    20 send nothing: /health answers at once all along, a prediction gets 503 (never hangs), each
    slow body ends with 408 after the deadline, and then predictions work again."""
    _, _, port, _ = open_server
    held = []
    try:
        head = (
            f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n"
        ).encode()
        slow = []
        for _ in range(SLOW):
            s = connect(port)
            s.sendall(head + b'{"in')
            slow.append(s)
        held += slow
        for _ in range(20):
            s = connect(port)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1")
            held.append(s)
        held += [connect(port) for _ in range(20)]
        image = json.dumps({"inputs": digits(1)[0]}).encode()
        latencies = []
        for _ in range(5):
            t = time.monotonic()
            status, body = request(port, "GET", "/health", timeout=5)
            latencies.append(time.monotonic() - t)
            assert status == 200 and json.loads(body)["status"] == "ok"
        assert max(latencies) < 2, latencies
        t = time.monotonic()
        status, body = request(port, "POST", "/predict", image, {"content-type": "application/json"}, timeout=5)
        assert status in (200, 503) and time.monotonic() - t < 3, (status, body)
        answers = [status_line(s, BODY_TIMEOUT_S + 20) for s in slow]
        assert set(answers) <= {408, 503} and answers.count(408) >= 32, answers
    finally:
        for s in held:
            s.close()
    status, body = request(port, "POST", "/predict", image, {"content-type": "application/json"}, timeout=30)
    assert status == 200 and len(json.loads(body)["predictions"]) == 1


def server_processes(ws: Path) -> list:
    """The detached server and every process under it (Ray's workers lead process groups of their own)."""
    import psutil

    server = psutil.Process(json.loads((ws / ".mlws/serve/run-1.json").read_text())["pid"])
    return [server, *server.children(recursive=True)]


def _replica_rss(ws: Path) -> int:
    """Resident memory of the server's model replica."""
    for p in server_processes(ws):
        if "ServeReplica" in p.name():
            return p.memory_info().rss
    raise AssertionError("no replica process found")


def test_a_chunked_body_is_refused_while_it_arrives(open_server):
    """No Content-Length: the 1 MB cap applies while reading, so the 413 comes long before the end
    of a 256 MB chunked body (today the whole body was read first, and the replica kept the memory).
    What was sent by then is loopback's speed times a few round trips: Ray's proxy queues what
    arrives until the replica answers."""
    ws, _, port, _ = open_server
    before = _replica_rss(ws)
    s = connect(port)
    try:
        s.sendall(
            f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"7" * 65536
        frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        sent, offset, response = 0, 0, b""
        s.setblocking(False)
        deadline = time.monotonic() + 60
        while sent < 256 * 2**20 and time.monotonic() < deadline and b"\r\n" not in response:
            readable, writable, _ = select.select([s], [s], [], 1)
            if readable:
                try:
                    part = s.recv(4096)
                except OSError:
                    break
                if not part:
                    break
                response += part
            elif writable:
                try:
                    offset += s.send(frame[offset:])
                except BlockingIOError:
                    continue
                except OSError:  # the server answered and closed: its answer is to be read
                    readable = True
                    break
                if offset == len(frame):
                    sent, offset = sent + len(frame), 0
        if b"\r\n" not in response:
            s.setblocking(True)
            s.settimeout(10)
            try:
                response += s.recv(4096)
            except OSError:
                pass
    finally:
        s.close()
    assert response.startswith(b"HTTP/1.1 413"), (response[:200], sent)
    assert sent < 64 * 2**20, sent
    assert _replica_rss(ws) - before < 64 * 2**20, (before, _replica_rss(ws))


def test_idle_keep_alive_connections_are_closed(open_server):
    """Ray's proxy kept an idle connection 90 s; the server closes it after 5 s."""
    _, _, port, _ = open_server
    s = connect(port)
    try:
        s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert status_line(s, 10) == 200
        t = time.monotonic()
        s.settimeout(20)
        while s.recv(4096):  # the rest of the answer, then the close
            pass
        assert time.monotonic() - t < 15
    finally:
        s.close()


@pytest.mark.parametrize(
    "host, status",
    [
        ("evil.example:{port}", 421),
        ("evil.example", 421),
        ("127.0.0.1.evil.example:{port}", 421),
        ("127.0.0.1:{port}", 200),
        ("localhost:{port}", 200),
        ("[::1]:{port}", 200),
        ("LOCALHOST:{port}", 200),
    ],
)
def test_host_header_must_name_this_server(open_server, host, status):
    """A page on evil.example whose name was rebound to 127.0.0.1 sends Host: evil.example."""
    _, _, port, _ = open_server
    for method, path, body in (
        ("GET", "/health", None),
        ("GET", "/info", None),
        ("POST", "/predict", json.dumps({"inputs": digits(1)[0]})),
    ):
        got, data = request(
            port, method, path, body, {"host": host.format(port=port), "content-type": "application/json"}
        )
        assert got == status, (method, path, data)


def test_bodies_an_attacker_shapes_get_a_4xx(open_server):
    """A 5,000-digit integer once gave a 500 (Python's digit limit, then a float overflow); a
    text/plain POST (what another site's page may send without a preflight) once predicted; two Host
    headers let the last one win."""
    _, _, port, _ = open_server
    json_type = {"content-type": "application/json"}
    for digits_ in (400, 5000):
        got, data = request(port, "POST", "/predict", '{"inputs": [[' + "9" * digits_ + "]]}", json_type)
        assert got in (400, 422) and b"error" in data, (digits_, got, data)
    got, data = request(
        port,
        "POST",
        "/predict",
        json.dumps({"inputs": digits(1)[0]}),
        {"content-type": "text/plain", "origin": "http://evil.example"},
    )
    assert got == 415 and b"application/json" in data
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET /info HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        assert status_line(sock, 10) == 400
    assert request(port, "GET", "/health")[0] == 200  # and the server is still there


def test_the_same_run_is_not_served_twice_and_stop_checks_the_process(open_server, tmp_path):
    """A second server of run 1 would take over its state file and leave the first one untracked;
    a state file whose pid now names another process must not make `serve stop` kill that process."""
    import subprocess

    ws, env, port, _ = open_server
    again = mlws("serve", "1", "--port", str(free_port()), "--detach", cwd=ws, env=env, timeout=120)
    assert again.returncode == 2 and "already served at" in again.stderr, again.stderr[-1000:]
    listed = mlws_json("serve", "list", cwd=ws, env=env)
    assert [s["url"] for s in listed] == [f"http://127.0.0.1:{port}"]
    assert listed[0]["process_started"]  # what a reused pid is told apart by
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        fake = ws / ".mlws" / "serve" / "run-77.json"
        fake.write_text(
            json.dumps({"run_id": 77, "pid": bystander.pid, "url": "http://127.0.0.1:1", "process_started": 12345.0})
        )  # not the bystander's start time
        out = mlws("serve", "stop", "77", cwd=ws, env=env, timeout=60)
        assert out.returncode == 2 and "not being served" in out.stderr
        assert bystander.poll() is None  # alive
    finally:
        bystander.kill()
        bystander.wait()


def test_rays_own_ports_listen_on_loopback_only(open_server):
    import psutil

    ws, _, port, _ = open_server
    listening = []
    for p in server_processes(ws):
        try:
            listening += [
                (p.name(), c.laddr.ip, c.laddr.port)
                for c in p.net_connections("inet")
                if c.status == psutil.CONN_LISTEN
            ]
        except psutil.Error:
            continue
    names = {name for name, _, _ in listening}
    assert {"gcs_server", "raylet", "ray::ProxyActor"} <= names and any(p == port for _, _, p in listening), listening
    loopback = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
    # Ray Serve hardcodes one port to [::]: a replica's inter-deployment gRPC server, which Ray's
    # token authentication guards (forced on for mlws's Ray); every other port is loopback's
    open_ = [x for x in listening if x[1] not in loopback]
    assert [name for name, _, _ in open_] == ["ray::ServeReplica:run-1:run-1"], listening
    replica = next(p for p in server_processes(ws) if p.name().startswith("ray::ServeReplica"))
    assert replica.environ().get("RAY_AUTH_MODE") == "token"


def test_args_file_is_private_and_goes_with_the_server(open_server):
    ws, env, port, _ = open_server
    args_file = ws / ".mlws/serve/run-1.args.json"
    assert stat.S_IMODE(args_file.stat().st_mode) == 0o600
    assert mlws("serve", "stop", "1", cwd=ws, env=env, timeout=120).returncode == 0
    assert not args_file.exists() and not (ws / ".mlws/serve/run-1.json").exists()


def test_a_public_host_without_a_token_is_refused(ws, env):
    assert mlws("train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", cwd=ws, env=env).returncode == 0
    for host in ("0.0.0.0", "::", "192.0.2.10", "example.com"):
        out = mlws("serve", "1", "--host", host, "--port", str(free_port()), cwd=ws, env=env)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
        assert (
            out.stderr.startswith(f"error: refusing to serve on {host} without a token")
            and out.stderr.count("\n") == 1
            and "--insecure" in out.stderr
        )
    with socket.socket() as busy:  # --insecure passes the refusal: the next check (the port) answers
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = mlws("serve", "1", "--host", "0.0.0.0", "--port", str(port), "--insecure", cwd=ws, env=env)
    assert out.returncode == 2 and f"port {port} on 0.0.0.0 is in use" in out.stderr
    assert not (ws / ".mlws/serve").exists() or list((ws / ".mlws/serve").iterdir()) == []  # nothing half-written


def test_unit_host_and_bearer_rules():
    from mlws.serving.guard import allowed_hosts, is_loopback
    from mlws.serving.inputs import authorized

    assert allowed_hosts("0.0.0.0", 80) is None and allowed_hosts("::", 80) is None
    assert {"127.0.0.1:9", "localhost:9", "[::1]:9", "127.0.0.2:9"} <= allowed_hosts("127.0.0.2", 9)
    assert "evil.example:9" not in allowed_hosts("127.0.0.1", 9)
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("LocalHost")
    assert not is_loopback("0.0.0.0") and not is_loopback("localhost.evil.example")
    for header in ("Bearer t0k", "bearer t0k", "BEARER t0k", "BeArEr t0k"):
        assert authorized(header, "t0k"), header
    for header in (None, "", "t0k", "Basic t0k", "Bearer t0", "Bearer t0kx", "Bearert0k", "Bearer t0k "):
        assert not authorized(header, "t0k"), header


# -- cloud servers (SkyPilot's recorded API) ---------------------------------------------------------


def test_recorded_api_cloud_server_dry_run_list_stop_and_a_generated_token(ws, env, tmp_path):
    from ..support.skypilot_cli import calls, sky_mlws

    assert mlws("train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", cwd=ws, env=env).returncode == 0
    dry = sky_mlws(ws, env, tmp_path, "serve", "1", "compute=sky", "compute.cpus=8", "--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    # a dry run leaves the backend's args file, which is no server: list and stop say so, no crash
    listed = mlws("serve", "list", cwd=ws, env=env)
    assert listed.returncode == 0 and listed.stdout.strip() == "no servers running", listed.stderr[-2000:]
    stopped = mlws("serve", "stop", "1", cwd=ws, env=env)
    assert stopped.returncode == 2 and stopped.stderr.startswith("error: run 1 is not being served")
    assert "Traceback" not in stopped.stderr + listed.stderr
    record = tmp_path / "api.json"
    launched = sky_mlws(ws, env, tmp_path, "serve", "1", "compute=sky", "compute.cpus=8", record=record)
    assert launched.returncode == 0, launched.stderr[-2000:]
    sent = list(yaml.safe_load_all(calls(record, "/launch")[0]["json"]["task"]))[-1]
    token = sent["secrets"]["MLWS_SERVE_TOKEN"]  # no serve.token_env: one generated, sent as the secret
    assert len(token) >= 43 and launched.stdout.count(token) == 1  # printed once
    assert token not in "".join(p.read_text() for p in (ws / ".mlws").rglob("*.json"))  # and kept nowhere
    from mlws.compute.sky.compile import workspace_tag

    cluster = f"mlws-serve-1-{workspace_tag(ws)}"
    assert [(s["run_id"], s["cluster"]) for s in mlws_json("serve", "list", cwd=ws, env=env)] == [(1, cluster)]
    assert (
        f"run 1  http://203.0.113.7:8000  (SkyPilot cluster {cluster})" in mlws("serve", "list", cwd=ws, env=env).stdout
    )
    stop_record = tmp_path / "stop.json"
    stopped = sky_mlws(ws, env, tmp_path, "serve", "stop", "1", record=stop_record)
    assert stopped.returncode == 0, stopped.stderr[-2000:]
    assert [c["json"]["cluster_name"] for c in calls(stop_record, "/down")] == [cluster]
    assert f"stopped the server for run 1 (SkyPilot cluster {cluster})" in stopped.stdout
    assert mlws_json("serve", "list", cwd=ws, env=env) == []
    insecure_record = tmp_path / "insecure.json"
    opened = sky_mlws(
        ws, env, tmp_path, "serve", "1", "compute=sky", "compute.cpus=8", "--insecure", record=insecure_record
    )
    assert opened.returncode == 0 and "token" not in opened.stdout, opened.stderr[-2000:]
    assert "secrets" not in list(yaml.safe_load_all(calls(insecure_record, "/launch")[0]["json"]["task"]))[-1]


def test_foreground_server_ends_with_143_on_sigterm_and_cleans_up(ws, env):
    """SIGTERM (what `kill` and service managers send) stops a foreground server cleanly, with the
    shell's status for it; Ray's own SIGTERM handler used to abort the process before its cleanup."""
    import signal
    import subprocess
    import sys

    assert mlws("train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", cwd=ws, env=env).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlws.cli.main", "serve", "1", "--port", str(port)],
        cwd=ws,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:

        def healthy():
            assert server.poll() is None, server.stdout.read()[-3000:]
            try:  # the state file follows the deployment's readiness by a moment
                return request(port, "GET", "/health", timeout=2)[0] == 200 and (ws / ".mlws/serve/run-1.json").exists()
            except OSError:
                return False

        wait_for(healthy, 300, interval=1, what="the foreground server")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=120) == 143
        out = server.stdout.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert "starting Ray" in out and "deployment ready" in out and f"demo page http://127.0.0.1:{port}/" in out
    assert not (ws / ".mlws/serve/run-1.json").exists()  # the server's own cleanup ran
