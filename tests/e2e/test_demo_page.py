"""The Gradio demo page (mlws[demo]) of a real `mlws serve` (Ray Serve over HTTP, with a token), in
headless Chromium: the token asked once, examples from the validation data that answer as
POST /predict does, an uploaded PNG scaled to the input's shape, and the samples the model gets
wrong, recomputed here from the weights. Gradio's own endpoints refuse a request without the token."""

import http.client
import json
import re

import pytest

from ..support.helpers import (
    clean_env,
    free_port,
    launch_chromium,
    make_workspace,
    mlws,
    mlws_json,
    stop_what_the_workspace_started,
)

pytestmark = [pytest.mark.serve, pytest.mark.chromium]
TOKEN = "demo-t0ken-s3cret"


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def predict(port: int, sample) -> dict:
    status, _, body = request(
        port,
        "POST",
        "/predict",
        json.dumps({"inputs": [sample]}).encode(),
        {"content-type": "application/json", "authorization": f"Bearer {TOKEN}"},
    )
    assert status == 200, body
    return json.loads(body)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Run 1 (model_01) and its child run 2 (model_02, labelled, with a note), served with a token."""
    tmp = tmp_path_factory.mktemp("demo")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    for args in (
        ["+experiment=model_01"],
        ["+experiment=model_02", "--label", "demo", "--note", "Normalised <input> pixels."],
    ):
        out = mlws("train", *args, "trainer.max_epochs=2", "logger=none", "serve.token_env=MLWS_TOKEN", cwd=ws, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
    env = {**env, "MLWS_TOKEN": TOKEN}
    port = free_port()
    started = mlws("serve", "2", "--port", str(port), "--detach", cwd=ws, env=env, timeout=400)
    assert started.returncode == 0, started.stderr[-3000:]
    yield ws, env, port, started
    mlws("serve", "stop", "2", cwd=ws, env=env, timeout=120)
    stop_what_the_workspace_started(ws)


@pytest.fixture(scope="module")
def truth(served):
    """The validation samples and the model's mistakes, recomputed here from the run's own weights."""
    import torch
    from hydra.utils import instantiate

    from mlws import api
    from mlws.serving.loading import checkpoint_path, load_model

    ws = served[0]
    record = api.show(2, workspace=ws)
    dm = instantiate(record["config"]["data"])
    dm.setup("validate")
    x = torch.cat([b[0] for b in dm.val_dataloader()])
    y = torch.cat([b[1] for b in dm.val_dataloader()])
    model = load_model(record["config"], checkpoint_path(record))
    with torch.no_grad():
        predicted = model(x).argmax(-1)
    samples = (x * 16).reshape(len(x), 1, 8, 8).tolist()  # the run normalises: a request sends 0..16
    return {
        "samples": samples,
        "targets": y.tolist(),
        "wrong": {i for i, (p, t) in enumerate(zip(predicted.tolist(), y.tolist())) if p != t},
    }


def test_the_token_guards_gradio_endpoints_and_is_never_in_a_url(served):
    _, _, port, started = served
    assert f"the demo page: http://127.0.0.1:{port}/demo/" in started.stdout
    status, _, body = request(port, "GET", "/demo/")
    assert status == 401 and b"This server needs its token" in body  # the token page, no run data
    for method, path in (
        ("GET", "/demo/config"),
        ("GET", "/demo/gradio_api/info"),
        ("POST", "/demo/gradio_api/queue/join"),
        ("POST", "/demo/gradio_api/upload"),
    ):
        assert request(port, method, path, b"{}", {"content-type": "application/json"})[0] == 401, path
        wrong = {"content-type": "application/json", "cookie": "mlws-demo=" + "0" * 64}
        assert request(port, method, path, b"{}", wrong)[0] == 401, path
    status, headers, _ = request(port, "POST", "/session", b"{}", {"content-type": "application/json"})
    assert status == 401
    status, headers, _ = request(
        port, "POST", "/session", b"{}", {"content-type": "application/json", "authorization": f"Bearer {TOKEN}"}
    )
    cookie = headers.get("set-cookie", "")
    assert status == 204 and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/demo" in cookie
    assert TOKEN not in cookie
    jar = {"cookie": cookie.split(";")[0]}
    assert request(port, "GET", "/demo/config", headers=jar)[0] == 200
    assert request(port, "GET", "/info", headers=jar)[0] == 401  # the cookie opens /demo only
    # a POST from another site's page (its Origin) is refused even with the cookie: multipart needs no preflight
    evil = {**jar, "content-type": "multipart/form-data; boundary=x", "origin": "http://evil.example"}
    assert request(port, "POST", "/demo/gradio_api/upload", b"--x--\r\n", evil)[0] == 403
    status, _, body = request(port, "GET", "/", headers={"authorization": f"Bearer {TOKEN}"})
    assert status == 200 and b"href='demo/'" in body  # the plain page links to it


def open_demo(browser, port: int):
    """The page as a teammate opens it: /demo/, the token typed once, then the Gradio page."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    seen = {"urls": [], "errors": []}
    page.on("request", lambda r: seen["urls"].append(r.url))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(f"http://127.0.0.1:{port}/demo/")
    page.fill("#token", TOKEN)
    page.click("#enter")
    page.wait_for_selector("#mlws-examples .thumbnail-item", timeout=60000)
    return page, seen


def shown(page) -> tuple[list, dict, str]:
    """The sample sent, the answer shown, and the caption, once the answer box has a new value."""
    return (
        json.loads(page.input_value("#mlws-sample textarea")),
        json.loads(page.input_value("#mlws-answer textarea")),
        page.inner_text("#mlws-caption"),
    )


def wait_answer(page, before: str) -> None:
    page.wait_for_function(
        "b => { const t = document.querySelector('#mlws-answer textarea'); return t && t.value && t.value !== b; }",
        arg=before,
        timeout=30000,
    )


def test_examples_answer_as_the_json_api_and_come_from_the_validation_data(served, truth, tmp_path):
    _, _, port, _ = served
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page, seen = open_demo(browser, port)
            header = page.inner_text(".mlws-card")
            captions = page.locator("#mlws-examples .caption-label").all_inner_texts()
            clicked = []
            for i in (0, 5):
                before = page.input_value("#mlws-answer textarea")
                page.locator("#mlws-examples .thumbnail-item").nth(i).click()
                wait_answer(page, before)
                clicked.append(shown(page))
            label = page.inner_text("#mlws-result")
            cookies = page.context.cookies()
            page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
        finally:
            browser.close()
    assert seen["errors"] == []
    assert all(u.startswith(f"http://127.0.0.1:{port}/") for u in seen["urls"]), [
        u for u in seen["urls"] if not u.startswith(f"http://127.0.0.1:{port}/")
    ]  # offline: nothing else
    assert not any(TOKEN in u for u in seen["urls"])
    assert [c["httpOnly"] for c in cookies if c["name"] == "mlws-demo"] == [True]
    assert "Run 2 · model_02" in header and "changed from run 1 (model_01)" in header
    assert "data.normalize: False → True" in header and "Normalised <input> pixels." in header and "val/acc" in header
    assert captions == [f"#{i} true {truth['targets'][i]}" for i in range(12)]
    for i, (sample, answer, caption) in zip((0, 5), clicked):
        assert sample == truth["samples"][i] and caption == f"example #{i} true {truth['targets'][i]}"
        api = predict(port, sample)
        assert answer["predictions"] == api["predictions"]
        assert answer["probabilities"][0] == pytest.approx(api["probabilities"][0], abs=1e-6)
    assert str(clicked[-1][1]["predictions"][0]) in label


def test_an_uploaded_png_is_scaled_to_the_input_shape(served, truth, tmp_path):
    _, _, port, _ = served
    import numpy as np
    from PIL import Image

    sample = np.asarray(truth["samples"][7])[0]  # 8x8, 0..16 ink
    grey = np.round(255 - sample * 255 / 16).astype(np.uint8)  # dark ink on white paper
    big = np.repeat(np.repeat(grey, 5, axis=0), 5, axis=1)  # 40x40: 5 pixels a cell
    png = tmp_path / "digit.png"
    Image.fromarray(big, mode="L").convert("RGB").save(png)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page, seen = open_demo(browser, port)
            page.get_by_role("tab", name="upload").click()
            before = page.input_value("#mlws-answer textarea")
            page.locator("#mlws-upload input[type=file]").set_input_files(str(png))
            wait_answer(page, before)
            sent, answer, caption = shown(page)
            preview = page.locator("#mlws-seen img").count()
        finally:
            browser.close()
    assert seen["errors"] == [] and preview == 1
    assert "40×40 scaled to 8×8" in caption
    got = np.asarray(sent)
    assert got.shape == (1, 8, 8)
    expected = (255 - grey.astype(float)) / 255 * 16  # what the PNG's levels mean, per cell
    assert np.abs(got[0] - expected).max() < 1e-3 and np.abs(got[0] - sample).max() <= 16 / 255 / 2 + 1e-6
    assert answer["predictions"] == predict(port, sent)["predictions"]


def test_a_drawing_is_what_the_model_gets(served):
    """A vertical stroke down the sketch pad's middle: ink in the middle columns, paper at the sides."""
    _, _, port, _ = served
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page, seen = open_demo(browser, port)
            page.click("#mlws-pad button[aria-label=Brush]")
            box = page.locator("#mlws-pad canvas").last.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y - 100)
            page.mouse.down()
            page.mouse.move(x, y + 100, steps=15)
            page.mouse.up()
            before = page.input_value("#mlws-answer textarea")
            page.click("#mlws-predict")
            wait_answer(page, before)
            sent, answer, caption = shown(page)
        finally:
            browser.close()
    import numpy as np

    grid = np.asarray(sent)[0]
    assert seen["errors"] == [] and caption == "your drawing" and grid.shape == (8, 8)
    columns = grid.sum(axis=0)
    assert columns[3:5].min() > 40 and columns[:2].max() == 0 and columns[6:].max() == 0, grid
    assert answer["predictions"] == predict(port, sent)["predictions"]


def test_where_it_is_wrong_lists_exactly_the_validation_errors(served, truth):
    _, _, port, _ = served
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page, seen = open_demo(browser, port)
            tab = page.get_by_role("tab", name=re.compile("where it is wrong"))
            tab_name = tab.inner_text()
            tab.click()
            page.wait_for_selector("#mlws-wrong .thumbnail-item", timeout=30000)
            captions = page.locator("#mlws-wrong .caption-label").all_inner_texts()
            before = page.input_value("#mlws-answer textarea")
            page.locator("#mlws-wrong .thumbnail-item").first.click()
            wait_answer(page, before)
            sample, answer, caption = shown(page)
        finally:
            browser.close()
    n = len(truth["samples"])
    assert f"({len(truth['wrong'])} of {n} validation samples)" in tab_name
    listed = [int(re.match(r"#(\d+) true (\d+), got (\d+)$", c).group(1)) for c in captions]
    assert set(listed) == truth["wrong"] and len(listed) == len(truth["wrong"])
    first = listed[0]
    assert sample == truth["samples"][first] and answer["predictions"][0] != truth["targets"][first]
    assert answer["predictions"] == predict(port, sample)["predictions"]


def test_serving_without_gradio_imports_no_gradio():
    """The plain page's modules, the guard and the mount never import Gradio (only gradio_page does)."""
    import subprocess
    import sys

    code = (
        "import sys, mlws.serving.app, mlws.serving.page, mlws.serving.demo_mount, mlws.serving.guard, "
        "mlws.serving.examples, mlws.serving.images, mlws.serving.card; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'gradio'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr[-2000:]


def test_serve_list_still_knows_the_server(served):
    ws, env, port, _ = served
    assert [(s["run_id"], s["url"]) for s in mlws_json("serve", "list", cwd=ws, env=env)] == [
        (2, f"http://127.0.0.1:{port}")
    ]
