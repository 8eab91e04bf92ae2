"""The Ray Serve application: POST /predict (batched), GET /health, GET /info, GET / (demo page),
and with mlws[demo] the Gradio page under /demo/ (gradio_page.py, joined by demo_mount.py).

`build_app(args)` is a Ray Serve application builder, so the same app runs from `mlws serve`, from
`serve run serve.yaml` (see `mlws serve RUN --export`), or on KubeRay.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures' real types.
import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request  # only the serving process imports this module

BODY_TIMEOUT_S = 10.0  # a whole body (1 MB at most) within this: 100 kB/s is a slow client, not an attack
PARSE_INLINE_BYTES = 64_000  # larger bodies are parsed in a thread (a digits sample is ~200 bytes)
HEADROOM = 32  # replica slots above the predictions' limit: /health, /info and the page answer under load


def app_args(record: Mapping[str, Any], serve_cfg: dict, host: str, port: int) -> dict:
    """Everything a replica needs, as plain JSON (what --export writes under `args`)."""
    from .loading import checkpoint_path

    return {
        "run_id": record["id"],
        "experiment": record.get("experiment"),
        "metrics": record.get("metrics") or {},
        "labels": record.get("labels") or [],
        "config": record["config"],
        "serve": serve_cfg,
        "checkpoint": str(checkpoint_path(record)),
        "host": host,
        "port": port,
        "token": os.environ.get(serve_cfg["token_env"]) if serve_cfg.get("token_env") else None,
    }


def demo_wanted(serve_cfg: dict) -> str | None:
    """None when the Gradio page is served, else why not (the plain page says it)."""
    from ..extras import missing

    if os.environ.get("MLWS_SERVE_DEMO", "").lower() in ("0", "off", "false", "no"):
        return "is off here (MLWS_SERVE_DEMO=off)"
    if missing("demo"):
        return "needs mlws[demo]: pip install 'mlws[demo]'"
    if serve_cfg.get("autoscaling") or int(serve_cfg.get("num_replicas", 1)) != 1:
        return "needs one replica (its event queue lives in one replica's memory; serve.num_replicas=1)"
    return None


def build_app(args: dict):
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, JSONResponse
    from ray import serve

    cfg = args["serve"]
    api = FastAPI(title=f"mlws run {args['run_id']}")
    options = {"num_replicas": cfg.get("num_replicas", 1)}
    if cfg.get("autoscaling"):
        options = {"autoscaling_config": dict(cfg["autoscaling"])}

    from .guard import Guard

    # an exported config (`serve run FILE` on a cluster) has no token: serve.token_env names it there
    token = args.get("token") or (os.environ.get(cfg["token_env"]) if cfg.get("token_env") else None)
    args = {**args, "demo_missing": demo_wanted(cfg)}
    if args["demo_missing"] is None:  # added first, so the Guard (added next) runs before it
        from .demo_mount import DemoDispatch

        api.add_middleware(DemoDispatch)
    api.add_middleware(Guard, host=args["host"], port=args["port"], token=token)
    predictions = max(64, 2 * cfg["max_batch_size"])

    class ModelServer:  # a deployment once wrapped below
        def __init__(self, args: dict):
            import torch
            from hydra.utils import instantiate

            from .body import Admission
            from .loading import load_model

            self.admission = Admission(predictions)
            torch.set_num_threads(1)  # one replica per core; batching gives the throughput
            self.args = args
            self.replica = serve.get_replica_context().replica_id.unique_id
            self.model = load_model(args["config"], Path(args["checkpoint"]))
            self.to_tensor = instantiate(args["serve"]["input"])
            from .loading import output_hook

            self.to_answer = output_hook(args["config"] | {"serve": args["serve"]})
            # Ray's stubs type a @serve.batch method as a plain callable; it has these setters
            self.predict_batch.set_max_batch_size(args["serve"]["max_batch_size"])  # type: ignore[attr-defined]
            self.predict_batch.set_batch_wait_timeout_s(args["serve"]["batch_wait_timeout_s"])  # type: ignore[attr-defined]
            if args["demo_missing"] is None:
                self._build_demo()

        def _build_demo(self):
            """The Gradio page around this replica's model, built in a thread (importing Gradio and
            reading the validation data take seconds: /predict answers meanwhile); a failure leaves
            the plain page saying why."""
            import logging
            import threading

            from . import demo_mount

            def build():
                try:
                    from .gradio_page import build as build_page

                    demo_mount.install(build_page(self))
                except Exception as e:  # the page is a convenience: the JSON API serves regardless
                    logging.getLogger("ray.serve").exception("the Gradio demo page could not be built")
                    reason = f"could not be built here: {type(e).__name__}: {e}"
                    self.args = {**self.args, "demo_missing": reason}
                    demo_mount.failed(reason)

            demo_mount.building()
            threading.Thread(target=build, name="mlws-demo-page", daemon=True).start()

        @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.002)
        async def predict_batch(self, inputs: list):
            """Requests arriving together share one forward pass."""
            import torch

            from .predict import forward

            sizes = [len(x) for x in inputs]
            outputs = forward(self.model, torch.cat(inputs))
            return [(part, len(inputs)) for part in torch.split(outputs, sizes)]

        @api.post("/predict")
        async def predict(self, request: Request):
            from .body import read_body
            from .inputs import BadRequest, parse_body

            serve_cfg = self.args["serve"]  # the token and the Host header were checked by the Guard
            try:
                with self.admission:
                    body = await read_body(
                        request, serve_cfg["max_body_bytes"], float(serve_cfg.get("body_timeout_s") or BODY_TIMEOUT_S)
                    )
                    parse = lambda: self.to_tensor(parse_body(body, serve_cfg["max_samples"]))
                    # a large body (deep nesting, many numbers) is parsed off the event loop, so
                    # /health and the other requests of this replica keep being answered meanwhile
                    x = await asyncio.to_thread(parse) if len(body) > PARSE_INLINE_BYTES else parse()
                    outputs, batched = await self.predict_batch(x)
            except BadRequest as e:
                headers = {"retry-after": "1"} if e.status == 503 else None
                return JSONResponse({"error": e.message}, status_code=e.status, headers=headers)
            # which replica answered, and how many requests shared its forward pass (batching at work)
            return JSONResponse(
                {**self.to_answer(outputs), "run_id": self.args["run_id"]},
                headers={"x-mlws-replica": self.replica, "x-mlws-batch": str(batched)},
            )

        @api.get("/health")
        def health(self):
            return {"status": "ok", "run_id": self.args["run_id"]}

        @api.get("/info")
        def info(self):
            a = self.args
            return {
                "run_id": a["run_id"],
                "experiment": a["experiment"],
                "metrics": a["metrics"],
                "labels": a["labels"],
                "input_shape": list(self.to_tensor.shape) if hasattr(self.to_tensor, "shape") else None,
                "max_batch_size": a["serve"]["max_batch_size"],
                "output": getattr(self.to_answer, "kind", None),
                "demo_page": "/demo/" if a.get("demo_missing") is None else None,
            }

        @api.get("/")
        def page(self):
            from .page import demo_page

            # the output hook says what it answers (its `kind`), whatever its class is called
            return HTMLResponse(demo_page({**self.args, "output_kind": getattr(self.to_answer, "kind", None)}))

    # serve.deployment(serve.ingress(api)(cls)), as the two decorators would do, by hand: a type
    # checker does not see what a class decorator returns (a Deployment, which has .bind)
    deployment = serve.deployment(name=f"run-{args['run_id']}", max_ongoing_requests=predictions + HEADROOM, **options)
    return deployment(serve.ingress(api)(ModelServer)).bind(args)
