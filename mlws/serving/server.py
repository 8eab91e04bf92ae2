"""Running the app: in the foreground, or as a background process (serving/detached.py).

`python -m mlws.serving.server ARGS.json [--detached]` starts a local Ray instance, deploys the app
on the given host and port, and shuts Ray Serve down cleanly on SIGTERM or Ctrl-C (the state that
`mlws serve list/stop` read is kept by mlws/ops/serving.py). Lines starting with `mlws: ` are its progress, which `mlws serve --detach` shows; the rest
of its output (Ray's) stays in the log.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

KEEP_ALIVE_S = 5  # an idle keep-alive connection is closed after this (Ray's default: 90 s)
REQUEST_TIMEOUT_S = 60.0  # the proxy's end-to-end limit per request (a client can lift it by a header;
#                           the replica's own body deadline still holds)
PROGRESS = "mlws: "
READY = "deployment ready"


def port_free(host: str, port: int) -> bool:
    """Whether a server could bind here (SO_REUSEADDR, as servers do: TIME_WAIT sockets are fine)."""
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def state_dir(workspace: Path) -> Path:
    return workspace / ".mlws" / "serve"


def write_private(path: Path, text: str) -> None:
    """Created 0600 from the first byte (no moment where another user could read it)."""
    path.unlink(missing_ok=True)  # O_CREAT keeps an existing file's mode
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def http_options(args: dict) -> dict:
    """Ray Serve's HTTP proxy (uvicorn): where it listens and how long it waits on a client."""
    cfg = args.get("serve") or {}
    return {
        "host": args["host"],
        "port": args["port"],
        "keep_alive_timeout_s": int(cfg.get("keep_alive_timeout_s") or KEEP_ALIVE_S),
        "request_timeout_s": float(cfg.get("request_timeout_s") or REQUEST_TIMEOUT_S),
    }


def private_ray() -> None:
    """Ray's own ports (GCS, raylet, agents, workers) on 127.0.0.1 only: this Ray is one machine's.
    Ray binds them to its node IP, which is the loopback address when clusters are off (Ray's
    setting for Windows and macOS; `_node_ip_address="127.0.0.1"` is replaced by the real IP).
    One port stays on all interfaces: Ray Serve 2.x hardcodes a replica's inter-deployment gRPC
    server to [::]:0. Ray's token authentication guards it, so it is forced on here."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # inherited by every Ray process started below
    os.environ["RAY_AUTH_MODE"] = "token"  # the token Ray keeps in ~/.ray/auth_token (made if missing)
    constants: Any = sys.modules.get("ray._private.ray_constants")  # Ray's module, if imported
    if constants is not None:  # ray imported before this: its constant was read already
        constants.ENABLE_RAY_CLUSTER = False


def start_ray(ray, progress, tries: int = 2) -> None:
    """A Ray of its own (address="local": never whatever RAY_ADDRESS or a running cluster says).
    On a busy machine its raylet can miss its 30 s start-up window; one more try usually makes it."""
    for attempt in range(1, tries + 1):
        try:
            ray.init(
                address="local",
                num_cpus=max(2, os.cpu_count() or 2),
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            return
        except Exception as e:
            if attempt == tries or "timed out during startup" not in str(e):
                raise
            import psutil

            ray.shutdown()
            for leftover in psutil.Process().children(recursive=True):  # the failed try's GCS, agents, ...
                leftover.kill()
            progress("Ray did not start in time (a busy machine?); trying once more")


def serve_forever(args: dict, ready=print, progress=print) -> int:
    """Serve until SIGTERM or Ctrl-C; returns the signal's number. `ready(url)` once it answers."""
    stopped_by: list[int] = []
    stop = threading.Event()
    private_ray()
    progress("starting Ray (its own ports on 127.0.0.1)")
    import ray
    from ray import serve

    from .app import build_app

    def on_signal(signum, _frame) -> None:
        stopped_by.append(signum)
        stop.set()

    start_ray(ray, progress)
    # after ray.init, which installs its own SIGTERM handler (an abort, skipping the cleanup below)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        options = http_options(args)
        progress(f"starting the HTTP proxy on {args['host']}:{args['port']}")
        serve.start(http_options=options)
        replicas = (args["serve"].get("autoscaling") or {}).get("min_replicas") or args["serve"].get("num_replicas", 1)
        progress(f"loading the model's weights into {replicas} replica(s)")
        serve.run(build_app(args), name=f"run-{args['run_id']}", route_prefix="/")
        url = f"http://{args['host']}:{args['port']}"
        from .app import demo_wanted

        if demo_wanted(args["serve"]) is None:
            progress(f"the demo page: {url}/demo/")
        progress(READY)  # the last progress line: a detached server's starter waits for it
        ready(url)
        while not stop.wait(0.5):
            pass
    finally:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
    return stopped_by[0] if stopped_by else signal.SIGTERM


def with_token_from_env(args: dict, environ=os.environ) -> dict:
    """The bearer token comes as MLWS_SERVE_TOKEN (a VM's secret; a detached server's environment),
    never in the args file."""
    return {**args, "token": environ["MLWS_SERVE_TOKEN"]} if environ.get("MLWS_SERVE_TOKEN") else args


def main(argv: list[str]) -> int:
    """`ARGS.json [--detached]`: a detached server (serving/detached.py) removes its args file when it ends."""
    args_file = Path(argv[0])
    args = with_token_from_env(json.loads(args_file.read_text()))
    say = lambda line: print(PROGRESS + line, flush=True)
    try:
        serve_forever(args, ready=lambda url: print(f"serving run {args['run_id']} at {url}", flush=True), progress=say)
    finally:
        if "--detached" in argv[1:]:
            args_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
