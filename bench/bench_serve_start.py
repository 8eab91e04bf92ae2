"""Serving start-up: `mlws serve RUN --detach` to the first /predict answer, for a user's own module
written in the Lightning + Hydra template's style (`import lightning`, a `net` module and partial
optimizer/scheduler saved as hyperparameters, its own data module) against model_12 (the digits
example, `pytorch_lightning`), measured in the same run, alternating, median of REPEATS.
Goal: the user module starts no slower than model_12 (ratio <= 1.2: the same weights file path,
the model rebuilt from the recorded config).

Then the Gradio demo page's cost (mlws[demo]): model_12 started with and without it (MLWS_SERVE_DEMO=off),
alternating, to the first /predict answer and, with the page, also to its first /demo/config answer.
Goal: <= +3 s over the plain page. BENCH_PARTS=demo runs only that part."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchlib import MLWS, REPO, free_port, make_workspace, offline_env

sys.path.insert(0, str(REPO))
from tests.support.user_projects import DATA_CONFIG, MODEL_CONFIG, TEMPLATE_DATA, TEMPLATE_MODULE  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))


def start_to_first_answer(ws: Path, env: dict, run_id: int, sample, page: bool = False) -> float:
    port = free_port()
    start = time.perf_counter()
    subprocess.run(
        [*MLWS, "serve", str(run_id), "--port", str(port), "--detach"],
        cwd=ws,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=400,
    )
    body = json.dumps({"inputs": [sample]}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/predict", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        assert r.status == 200 and json.loads(r.read())["predictions"]
    took = time.perf_counter() - start
    if page:  # the Gradio page answers too (built in a thread of the replica; its queue starts on its first request)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/demo/config", timeout=120) as r:
            assert r.status == 200
        took = (took, time.perf_counter() - start)
    subprocess.run(
        [*MLWS, "serve", "stop", str(run_id)],
        cwd=ws,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    return took


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mlws-bench-serve-start-") as tmp:
        tmp = Path(tmp)
        ws = make_workspace(tmp / "ws")
        (ws / "acme").mkdir()
        (ws / "acme" / "__init__.py").write_text("")
        (ws / "acme" / "lit.py").write_text(TEMPLATE_MODULE)
        (ws / "acme" / "data.py").write_text(TEMPLATE_DATA)
        (ws / "conf" / "model" / "lit.yaml").write_text(MODEL_CONFIG)
        (ws / "conf" / "data" / "lit.yaml").write_text(DATA_CONFIG)
        env = {**offline_env(tmp), "PYTHONPATH": str(ws)}
        parts = os.environ.get("BENCH_PARTS", "template,demo").split(",")
        runs = [["+experiment=model_12"]] + (
            [["model=lit", "data=lit", "data.normalize=true"]] if "template" in parts else []
        )
        for overrides in runs:
            subprocess.run(
                [*MLWS, "train", *overrides, "trainer.max_epochs=2", "logger=none"],
                cwd=ws,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        sample = [[0.0] * 8 for _ in range(8)]
        if "template" in parts:
            template_module(ws, env, sample)
        if "demo" in parts:
            demo_page(ws, env, sample)


def template_module(ws: Path, env: dict, sample) -> None:
    times = {"model_12": [], "template module": []}
    for _ in range(REPEATS):
        times["model_12"].append(start_to_first_answer(ws, env, 1, sample))
        times["template module"].append(start_to_first_answer(ws, env, 2, sample))
    base = statistics.median(times["model_12"])
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"serve start to first answer, {name:16s}: median {median:6.2f} s "
            f"(runs {', '.join(f'{v:.2f}' for v in values)})  ratio {median / base:.2f}"
        )
    ratio = statistics.median(times["template module"]) / base
    print(f"goal: user module <= 1.2x model_12: {'met' if ratio <= 1.2 else 'NOT met'} ({ratio:.2f}x)")


def demo_page(ws: Path, env: dict, sample) -> None:
    """model_12 with the plain page only, then with the Gradio page too, alternating."""
    plain_env = {**env, "MLWS_SERVE_DEMO": "off"}
    times = {"plain page": [], "with Gradio page": [], "Gradio page itself": []}
    for _ in range(REPEATS):
        times["plain page"].append(start_to_first_answer(ws, plain_env, 1, sample))
        first_answer, page_answer = start_to_first_answer(ws, env, 1, sample, page=True)
        times["with Gradio page"].append(first_answer)
        times["Gradio page itself"].append(page_answer)
    base = statistics.median(times["plain page"])
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"serve start to first answer, {name:16s}: median {median:6.2f} s "
            f"(runs {', '.join(f'{v:.2f}' for v in values)})  ratio {median / base:.2f}"
        )
    after = [b - a for a, b in zip(times["with Gradio page"], times["Gradio page itself"])]
    print(
        f"the Gradio page's first answer after the same server's first /predict: median {statistics.median(after):.2f} s "
        f"(runs {', '.join(f'{v:.2f}' for v in after)})"
    )
    extra = statistics.median(times["Gradio page itself"]) - base
    print(
        f"goal: the Gradio page answers <= 3 s after the plain page would: {'met' if extra <= 3 else 'NOT met'} "
        f"({extra:+.2f} s, {statistics.median(times['Gradio page itself']) / base:.2f}x); /predict with the page "
        f"{statistics.median(times['with Gradio page']) / base:.2f}x"
    )


if __name__ == "__main__":
    main()
