"""Baseline for bench_serve.py: one FastAPI/uvicorn process calling the same model once per request
(same checkpoint loader, same input parsing), no batching, no Ray."""

import json
import sys
from pathlib import Path

import torch
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from hydra.utils import instantiate

from mlws.serving.inputs import BadRequest, parse_body
from mlws.serving.loading import load_model


def main(args_path: str, port: int) -> None:
    torch.set_num_threads(1)
    args = json.loads(Path(args_path).read_text())
    model = load_model(args["config"], Path(args["checkpoint"]))
    to_tensor = instantiate(args["serve"]["input"])
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: Request):
        try:
            x = to_tensor(parse_body(await request.body(), 256))
        except BadRequest as e:
            return JSONResponse({"error": e.message}, status_code=e.status)
        with torch.no_grad():
            probs = torch.softmax(model(x), dim=-1)
        return {"predictions": probs.argmax(-1).tolist(), "probabilities": probs.tolist()}

    @app.get("/health")
    def health():
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
