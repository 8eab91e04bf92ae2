"""Running the app: in the foreground, or as a background process that `mlws serve list/stop` know.

`python -m mlws.serving.server ARGS.json` starts a local Ray instance, deploys the app on the given
host and port, writes its state file, and shuts Ray Serve down cleanly on SIGTERM or Ctrl-C.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path


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


def serve_forever(args: dict, state_file: Path | None = None, ready=print) -> None:
    import ray
    from ray import serve

    from .app import build_app
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # address="local": always a Ray of its own, never whatever RAY_ADDRESS or a running cluster says
    ray.init(address="local", num_cpus=max(2, os.cpu_count() or 2), include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        serve.start(http_options={"host": args["host"], "port": args["port"]})
        serve.run(build_app(args), name=f"run-{args['run_id']}", route_prefix="/")
        url = f"http://{args['host']}:{args['port']}"
        if state_file:
            state_file.write_text(json.dumps({"run_id": args["run_id"], "pid": os.getpid(), "url": url,
                                              "started": time.time()}))
        ready(url)
        while not stop.wait(0.5):
            pass
    finally:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
            if state_file and state_file.exists():
                state_file.unlink()


def with_token_from_env(args: dict, environ=os.environ) -> dict:
    """On a VM the bearer token comes as the MLWS_SERVE_TOKEN secret, never in the args file."""
    return {**args, "token": environ["MLWS_SERVE_TOKEN"]} if environ.get("MLWS_SERVE_TOKEN") else args


def main(argv: list[str]) -> int:
    args = with_token_from_env(json.loads(Path(argv[0]).read_text()))
    state_file = Path(argv[1]) if len(argv) > 1 else None
    serve_forever(args, state_file, ready=lambda url: print(f"serving run {args['run_id']} at {url}", flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
