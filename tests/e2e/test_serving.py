"""A run's model behind Ray Serve, started for real; requests over real HTTP; the demo page in
headless Chromium; a malicious checkpoint refused."""

import http.client
import json
import pickle
import stat
import uuid
from pathlib import Path

import pytest
import yaml

from ..support.helpers import (
    PicklePayload,
    clean_env,
    free_port,
    launch_chromium,
    make_workspace,
    mlws,
    mlws_json,
    stop_what_the_workspace_started,
)
from ..support.serving_client import digits, get, get_with_headers, post

pytestmark = [pytest.mark.serve, pytest.mark.chromium]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    out = mlws(
        "train", "+experiment=model_12", "trainer.max_epochs=4", "logger=none", "--label", "demo", cwd=ws, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    port = free_port()
    started = mlws("serve", "1", "--port", str(port), "--detach", cwd=ws, env=env, timeout=400)
    assert started.returncode == 0, started.stderr[-3000:]
    yield ws, env, port
    mlws("serve", "stop", "1", cwd=ws, env=env, timeout=120)
    stop_what_the_workspace_started(ws)  # when the CLI could not stop it (it failed to import, say)


def test_predictions_match_the_model(served):
    ws, env, port = served
    images, targets = digits(40)
    status, data = post(port, json.dumps({"inputs": images}).encode())
    assert status == 200 and data["run_id"] == 1 and len(data["predictions"]) == 40
    assert all(abs(sum(p) - 1) < 1e-4 and len(p) == 10 for p in data["probabilities"])
    # the same checkpoint, loaded here, gives the same answers
    import torch

    from mlws import api
    from mlws.serving.loading import checkpoint_path, load_model

    record = api.show(1, workspace=ws)
    model = load_model(record["config"], checkpoint_path(record))
    with torch.no_grad():
        local = model(torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 16).argmax(-1).tolist()
    assert data["predictions"] == local
    # the notebook API answers as the server does (mlws.load_run(N).predict, the same input hook)
    in_notebook = api.load_run(1, workspace=ws).predict(images)
    assert in_notebook["predictions"] == data["predictions"]
    assert all(
        abs(a - b) < 1e-5 for p, q in zip(in_notebook["probabilities"], data["probabilities"]) for a, b in zip(p, q)
    )
    assert sum(p == t for p, t in zip(data["predictions"], targets)) >= 36
    flat = [sum(img, []) for img in images[:3]]  # 64 numbers per sample work too
    assert post(port, json.dumps({"inputs": flat}).encode())[1]["predictions"] == data["predictions"][:3]


# Every case is a unit test of the request checks (tests/unit/test_serving_inputs.py); these prove
# the server turns each kind into its status end to end, including the body limit only HTTP sees.
@pytest.mark.parametrize(
    "body, status, needle",
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "nested too deeply"),
        (b'{"inputs": [[1, 2, 3]]}', 422, "expected 64 numbers"),
        (b'{"inputs": "' + b"x" * 1_200_000 + b'"}', 413, "body over 1000000 bytes"),
    ],
)
def test_bad_requests_get_4xx_with_a_message(served, body, status, needle):
    _, _, port = served
    got, data = post(port, body)
    assert got == status and needle in data["error"]


def test_a_thousand_bad_requests_then_a_good_one(served):
    _, _, port = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    bad = [b"{", b'{"inputs": []}', b'{"inputs": [[NaN]]}', b'{"inputs": [["a"]]}']
    statuses = {post(port, bad[i % 4], conn=conn)[0] for i in range(1000)}
    assert statuses == {400, 422}
    images, targets = digits(1)
    status, data = post(port, json.dumps({"inputs": images}).encode(), conn=conn)
    conn.close()
    assert status == 200 and data["predictions"] == targets


def test_health_and_info(served):
    _, _, port = served
    assert json.loads(get(port, "/health")[1]) == {"status": "ok", "run_id": 1}
    info = json.loads(get(port, "/info")[1])
    assert info["run_id"] == 1 and info["experiment"] == "model_12" and info["labels"] == ["demo"]
    assert 0 < info["metrics"]["val/acc"] <= 1


def test_serve_list_and_port_in_use(served):
    ws, env, port = served
    listed = mlws_json("serve", "list", cwd=ws, env=env)
    assert [(s["run_id"], s["url"]) for s in listed] == [(1, f"http://127.0.0.1:{port}")]
    busy = mlws("serve", "1", "--port", str(port), cwd=ws, env=env)  # (a busy port alone: test_serving_security)
    assert busy.returncode == 2 and f"run 1 is already served at http://127.0.0.1:{port}" in busy.stderr
    assert mlws("serve", "stop", "9", cwd=ws, env=env).stderr.startswith("error: run 9 is not being served")


def test_demo_page_in_chromium(served, tmp_path):
    _, _, port = served
    images, targets = digits(10)
    pixels = [v for row in images[3] for v in row]
    _, api_answer = post(port, json.dumps({"inputs": [pixels]}).encode())
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{port}/")
            page.evaluate("pixels => window.setPixels(pixels)", pixels)  # inject the digit
            page.click("#predict")
            page.wait_for_function("document.getElementById('prediction').textContent !== '–'", timeout=30000)
            shown = page.inner_text("#prediction")
            bars = page.locator("#probs .row").count()
            # and draw by hand: a vertical stroke changes the grid and still predicts
            page.click("#clear")
            box = page.locator("#grid").bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 10)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 10, steps=12)
            page.mouse.up()
            drawn = page.evaluate("() => Array.from(pixels)")  # what the stroke painted on the grid
            page.evaluate("() => { document.getElementById('prediction').textContent = '–'; }")
            page.click("#predict")
            page.wait_for_function("document.getElementById('prediction').textContent !== '–'", timeout=30000)
            stroke_shown = page.inner_text("#prediction")  # the answer to the stroke itself
            page.screenshot(path=str(tmp_path / "demo.png"))
        finally:
            browser.close()
    assert errors == [] and bars == 10
    assert int(shown) == api_answer["predictions"][0] == targets[3]
    # the vertical stroke lit a whole column of the 8x8 grid, and nothing else at full strength
    lit = {(i // 8, i % 8) for i, v in enumerate(drawn) if v == 16}
    assert {row for row, _ in lit} == set(range(8)) and len({col for _, col in lit}) == 1, drawn
    assert int(stroke_shown) == post(port, json.dumps({"inputs": [drawn]}).encode())[1]["predictions"][0]


def test_export_is_a_valid_ray_serve_config(served, tmp_path):
    ws, env, port = served
    out = mlws("serve", "1", "--export", str(tmp_path / "serve.yaml"), cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    config = yaml.safe_load((tmp_path / "serve.yaml").read_text())
    from ray.serve.schema import ServeDeploySchema

    schema = ServeDeploySchema(**config)
    app = schema.applications[0]
    assert app.import_path == "mlws.serving.app:build_app" and app.args["run_id"] == 1
    from mlws.serving.app import build_app

    assert type(build_app(app.args)).__name__ == "Application"  # what `serve run` would deploy


def test_malicious_checkpoint_is_refused(tmp_path):
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    assert mlws("train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", cwd=ws, env=env).returncode == 0
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    best = Path(mlws_json("show", "1", cwd=ws, env=env)["artifacts"]["checkpoints"]["best"])
    for weights in best.parent.glob("*.safetensors"):  # a run from before safetensors weights: only .ckpt
        weights.unlink()
    best.write_bytes(pickle.dumps({"state_dict": {}, "payload": PicklePayload(marker)}))
    out = mlws("serve", "1", "--port", str(free_port()), cwd=ws, env=env)
    assert out.returncode == 2 and "refusing checkpoint" in out.stderr and "Traceback" not in out.stderr
    assert not marker.exists()  # the payload never ran


def post_with_headers(port: int, body: bytes, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/predict", body=body, headers={"content-type": "application/json", **(headers or {})})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), json.loads(r.read() or b"null")
    finally:
        conn.close()


def page_prediction(port: int, token: str, pixels: list) -> dict:
    """The demo page of a server with a token, as a browser sees it: the token page first, the token
    typed once, then Predict pressed (twice: the second time after a reload, from sessionStorage)."""
    from playwright.sync_api import sync_playwright

    seen = {}
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            first = page.goto(f"http://127.0.0.1:{port}/")
            seen["first_status"], seen["first_html"] = first.status, page.content()
            page.fill("#token", token)
            page.click("#enter")
            page.wait_for_selector("#predict", timeout=30000)
            for attempt in ("typed", "reloaded"):
                page.evaluate("pixels => window.setPixels(pixels)", pixels)
                page.click("#predict")
                page.wait_for_function(
                    "document.getElementById('prediction').textContent !== '–' || "
                    "document.getElementById('error').textContent !== ''",
                    timeout=30000,
                )
                seen[attempt] = (page.inner_text("#prediction"), page.inner_text("#error"))
                if attempt == "typed":
                    page.reload()
                    page.wait_for_selector("#predict", timeout=30000)
            seen["url"], seen["errors"] = page.url, errors
            seen["stored"] = page.evaluate("() => sessionStorage.getItem('mlws-token')")
            wrong = browser.new_page()  # a fresh tab has no token: a wrong one is refused on the token page
            wrong.goto(f"http://127.0.0.1:{port}/")
            wrong.fill("#token", "not-the-token")
            wrong.click("#enter")
            wrong.wait_for_function("document.getElementById('error').textContent !== ''", timeout=30000)
            seen["wrong"] = wrong.inner_text("#error")
        finally:
            browser.close()
    return seen


def test_token_demo_page_replicas_and_batching(tmp_path):
    """One server with a bearer token, two replicas and a batch window long enough to see batching."""
    from concurrent.futures import ThreadPoolExecutor

    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    assert (
        mlws(
            "train",
            "+experiment=model_01",
            "trainer.max_epochs=1",
            "logger=none",
            "serve.token_env=MLWS_TOKEN",
            "serve.num_replicas=2",
            "serve.max_batch_size=8",
            "serve.batch_wait_timeout_s=0.5",
            cwd=ws,
            env=env,
        ).returncode
        == 0
    )
    assert "MLWS_TOKEN, which is not set" in mlws("serve", "1", cwd=ws, env=env).stderr
    env = {**env, "MLWS_TOKEN": "s3cret-token"}
    port = free_port()
    assert mlws("serve", "1", "--port", str(port), "--detach", cwd=ws, env=env, timeout=400).returncode == 0
    try:
        images, _ = digits(16)
        body = json.dumps({"inputs": [[0.0] * 64]}).encode()
        assert post(port, body)[0] == 401
        assert post(port, body, {"authorization": "Bearer wrong"})[0] == 401
        assert post(port, body, {"authorization": "Bearer s3cret-token"})[0] == 200
        # 16 requests at once: forward passes shared by several requests (never more than 8), on both replicas
        bodies = [json.dumps({"inputs": [img]}).encode() for img in images]
        auth = {"authorization": "Bearer s3cret-token"}
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda b: post_with_headers(port, b, auth), bodies))
        assert [status for status, _, _ in answers] == [200] * 16
        batches = [int(h["x-mlws-batch"]) for _, h, _ in answers]
        assert 1 < max(batches) <= 8, batches
        assert len({h["x-mlws-replica"] for _, h, _ in answers}) == 2
        for (_, _, data), img in zip(answers, images):  # each request got its own sample's answer
            assert data["predictions"] == post(port, json.dumps({"inputs": [img]}).encode(), auth)[1]["predictions"]
        # the scheme is case-insensitive; every path but /health needs the token
        assert post(port, body, {"authorization": "bearer s3cret-token"})[0] == 200
        for path in ("/info", "/", "/docs", "/openapi.json"):
            status, page = get(port, path)
            assert status == 401 and b"model_01" not in page and b"run 1" not in page, (path, page[:200])
            assert get_with_headers(port, path, auth)[0] == 200, path
        assert get(port, "/health")[0] == 200  # a load balancer's probe stays open
        # the demo page asks for the token once, keeps it in the tab's sessionStorage, never in the URL
        pixels = [v for row in images[0] for v in row]
        seen = page_prediction(port, "s3cret-token", pixels)
        assert seen["first_status"] == 401 and "model_01" not in seen["first_html"]
        for attempt in ("typed", "reloaded"):
            shown, error = seen[attempt]
            assert error == "" and int(shown) == answers[0][2]["predictions"][0], (attempt, seen)
        assert seen["url"] == f"http://127.0.0.1:{port}/" and seen["stored"] == "s3cret-token" and seen["errors"] == []
        assert seen["wrong"] == "wrong token"
        exported = mlws("serve", "1", "--export", str(tmp_path / "s.yaml"), cwd=ws, env=env)
        assert exported.returncode == 0 and "s3cret-token" not in (tmp_path / "s.yaml").read_text()
        # the detached server got its token by the environment: its args file is private and has none
        args_file = ws / ".mlws/serve/run-1.args.json"
        assert stat.S_IMODE(args_file.stat().st_mode) == 0o600 and "s3cret-token" not in args_file.read_text()
    finally:
        mlws("serve", "stop", "1", cwd=ws, env=env, timeout=120)
        stop_what_the_workspace_started(ws)
    assert not args_file.exists()


def test_autoscaling_bounds_reach_ray_serves_deployment(tmp_path):
    """serve.autoscaling becomes the deployment's autoscaling config, validated by Ray Serve itself."""
    from mlws.serving.app import build_app

    serve_cfg = yaml.safe_load((make_workspace(tmp_path / "ws", git=False) / "conf/serve/default.yaml").read_text())
    args = {
        "run_id": 3,
        "experiment": "x",
        "metrics": {},
        "labels": [],
        "config": {},
        "checkpoint": "none",
        "host": "127.0.0.1",
        "port": 8000,
        "token": None,
        "serve": {**serve_cfg, "autoscaling": {"min_replicas": 1, "max_replicas": 3, "target_ongoing_requests": 4}},
    }
    deployment = build_app(args)._bound_deployment
    assert deployment._deployment_config.autoscaling_config.max_replicas == 3
    assert deployment._deployment_config.autoscaling_config.target_ongoing_requests == 4
    args["serve"]["autoscaling"] = {"min_replicas": 1, "max_replicas": "lots"}
    with pytest.raises(Exception, match="max_replicas"):
        build_app(args)
