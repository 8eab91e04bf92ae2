"""Ray Serve's own floor for bench_serve.py: a deployment behind the same FastAPI ingress as mlws's
that only echoes, started the way `mlws serve` starts its app (a local Ray, Ray Serve's HTTP proxy)."""

import signal
import sys
import threading

import ray
from fastapi import FastAPI, Request
from ray import serve


def main(port: int) -> None:
    api = FastAPI()

    @serve.deployment(name="echo", max_ongoing_requests=64)
    @serve.ingress(api)
    class Echo:
        @api.post("/predict")
        async def predict(self, request: Request):
            return {"bytes": len(await request.body())}

        @api.get("/health")
        def health(self):
            return {"status": "ok"}

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(Echo.bind(), name="echo", route_prefix="/")
        while not stop.wait(0.5):
            pass
    finally:
        serve.shutdown()
        ray.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]))
