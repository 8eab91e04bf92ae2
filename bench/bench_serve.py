"""Serving benchmark: the mlws Ray Serve endpoint (batching) against a plain single-process
FastAPI/uvicorn server calling the same model once per request, and against Ray Serve's own floor
(a trivial deployment that only echoes, bench/trivial_serve.py), all measured in the same run.

Two models: model_12 (digits CNN, trained here for a few epochs) and a heavy MLP whose
single-sample forward takes ~10 ms on one core (bench/heavy_model.py, random weights).
Clients: 1, 8 and 32 concurrent keep-alive connections, each sending one digit per request for
DURATION seconds. The load generator shares this 2-core machine with the servers.
Goals: at 1 client, mlws p50 <= the trivial Ray Serve deployment's + 2 ms; at 32 clients, the heavy
model >= 2x the plain server's throughput with p99 <= 0.5 s, and model_12 >= 0.8x the trivial
deployment's throughput. Also printed: mlws's own per-request work measured in-process (parsing and
validating the body, the forward pass, encoding the answer).
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchlib import REPO, free_port, make_workspace

DURATION = float(os.environ.get("BENCH_SERVE_SECONDS", "4"))
CLIENTS = (1, 8, 32)


def wait_healthy(port: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on port {port} not healthy")


def load(port: int, clients: int, body: bytes) -> dict:
    latencies, stop = [], threading.Event()
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while not stop.is_set():
            t = time.perf_counter()
            conn.request("POST", "/predict", body=body, headers={"content-type": "application/json"})
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
            mine.append(time.perf_counter() - t)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(DURATION)
    stop.set()
    for t in threads:
        t.join()
    lat = sorted(latencies)
    return {"rps": len(lat) / DURATION, "p50": 1000 * lat[len(lat) // 2], "p99": 1000 * lat[int(len(lat) * 0.99) - 1]}


def measure(port: int, body: bytes) -> dict:
    load(port, 4, body)  # warm up
    return {c: load(port, c, body) for c in CLIENTS}


def heavy_run(ws: Path, env: dict) -> int:
    """Record a run whose model is the heavy MLP (random weights: speed is what is measured)."""
    import torch

    sys.path.insert(0, str(REPO / "bench"))
    from heavy_model import HeavyClassifier

    from mlws import api
    from mlws.registry import open_registry
    from mlws.workspace import Workspace

    spec = api.plan(["+experiment=model_02", "logger=none"], workspace=ws)
    spec.config["model"] = {"_target_": "heavy_model.HeavyClassifier", "width": 4096, "depth": 5}
    registry = open_registry(Workspace(ws).registry_url)
    run_id = registry.create(spec, "", "local", run_dir_for=lambda i: str(ws / "runs" / str(i)))
    ckpt = ws / "runs" / str(run_id) / "checkpoints" / "best.ckpt"
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": HeavyClassifier(4096, 5).state_dict()}, ckpt)
    registry.finish(run_id, "succeeded", metrics={}, artifacts={"checkpoints": {"best": str(ckpt)}})
    return run_id


def main() -> None:
    from sklearn.datasets import load_digits

    body = json.dumps({"inputs": [load_digits().images[7].tolist()]}).encode()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        make_workspace(ws)
        env = {**os.environ, "PYTHONPATH": str(REPO / "bench"), "WANDB_MODE": "disabled"}
        cli = [sys.executable, "-m", "mlws.cli.main"]
        subprocess.run(
            [*cli, "train", "+experiment=model_12", "trainer.max_epochs=4", "logger=none"],
            cwd=ws,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.environ["MLWS_WORKSPACE"] = str(ws)
        runs = {"model_12": 1, "heavy (~10 ms/sample)": heavy_run(ws, env)}
        port = free_port()
        trivial = subprocess.Popen(
            [sys.executable, str(REPO / "bench" / "trivial_serve.py"), str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_healthy(port)
            results[("(none)", "trivial Ray Serve")] = measure(port, body)
        finally:
            trivial.terminate()
            trivial.wait(timeout=120)
        stages = stage_costs(ws, body)
        for name, run_id in runs.items():
            from mlws import api
            from mlws.serving.app import app_args

            record = api.show(run_id, workspace=ws)
            serve_cfg = record["config"]["serve"]
            args_file = Path(tmp) / f"args{run_id}.json"
            args_file.write_text(json.dumps(app_args(record, serve_cfg, "127.0.0.1", 0)))
            port = free_port()
            plain = subprocess.Popen(
                [sys.executable, str(REPO / "bench" / "plain_server.py"), str(args_file), str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_healthy(port)
                results[(name, "plain")] = measure(port, body)
            finally:
                plain.terminate()
                plain.wait(timeout=60)
            port = free_port()
            subprocess.run(
                [*cli, "serve", str(run_id), "--port", str(port), "--detach"],
                cwd=ws,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=400,
            )
            try:
                results[(name, "mlws")] = measure(port, body)
            finally:
                subprocess.run(
                    [*cli, "serve", "stop", str(run_id)],
                    cwd=ws,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=120,
                )
    print(f"serving benchmark: {DURATION:.0f} s per point, one digit per request")
    print(f"{'model':24}{'server':20}" + "".join(f"{f'{c} client(s)':>28}" for c in CLIENTS))
    print(" " * 44 + "".join(f"{'req/s   p50 ms   p99 ms':>28}" for _ in CLIENTS))
    for (name, server), by_clients in results.items():
        cells = "".join(f"{r['rps']:>11.0f}{r['p50']:>8.1f}{r['p99']:>9.1f}" for r in by_clients.values())
        print(f"{name:24}{server:20}{cells}")
    floor = results[("(none)", "trivial Ray Serve")]
    print(
        "mlws's own work per request, in-process (model_12): " + ", ".join(f"{k} {v:.3f} ms" for k, v in stages.items())
    )
    m12 = results[("model_12", "mlws")]
    ok = lambda cond: "OK" if cond else "MISSED"
    print(
        f"model_12: p50 at 1 client {m12[1]['p50']:.1f} ms vs trivial Ray Serve {floor[1]['p50']:.1f} ms "
        f"({m12[1]['p50'] - floor[1]['p50']:+.1f} ms; goal <= +2 ms: {ok(m12[1]['p50'] <= floor[1]['p50'] + 2)})"
    )
    print(
        f"model_12: throughput at 32 clients x{m12[32]['rps'] / floor[32]['rps']:.2f} of trivial Ray Serve "
        f"(goal >= 0.8: {ok(m12[32]['rps'] >= 0.8 * floor[32]['rps'])})"
    )
    heavy, plain = results[("heavy (~10 ms/sample)", "mlws")], results[("heavy (~10 ms/sample)", "plain")]
    print(
        f"heavy: throughput at 32 clients x{heavy[32]['rps'] / plain[32]['rps']:.2f} of plain, p99 "
        f"{heavy[32]['p99']:.0f} ms (goal >= 2 and <= 500 ms: "
        f"{ok(heavy[32]['rps'] >= 2 * plain[32]['rps'] and heavy[32]['p99'] <= 500)})"
    )


def stage_costs(ws: Path, body: bytes, n: int = 2000) -> dict:
    """Median ms of each step mlws does per request for model_12, outside Ray (no proxy, no queue)."""
    import statistics

    import torch
    from starlette.responses import JSONResponse

    from mlws import api
    from mlws.serving.inputs import parse_body
    from mlws.serving.loading import checkpoint_path, input_hook, load_model, output_hook
    from mlws.serving.predict import forward

    torch.set_num_threads(1)
    record = api.show(1, workspace=ws)
    model, to_tensor = load_model(record["config"], checkpoint_path(record)), input_hook(record["config"])

    def timed(fn):
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return 1000 * statistics.median(samples)

    x = to_tensor(parse_body(body, 256))
    outputs, to_answer = forward(model, x), output_hook(record["config"])
    return {
        "parse+validate": timed(lambda: to_tensor(parse_body(body, 256))),
        "forward": timed(lambda: forward(model, x)),
        "answer+encode": timed(lambda: JSONResponse({**to_answer(outputs), "run_id": 1}).body),
    }


if __name__ == "__main__":
    main()
