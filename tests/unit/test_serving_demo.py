"""The demo page's pure parts: the guard's cookie and origin rules (ASGI calls, no server), images to
samples and back, the validation errors, the run card's escaping, and the plain page without Gradio."""

import asyncio

import pytest

from mlws.serving import guard
from mlws.serving.card import run_card
from mlws.serving.examples import where_wrong
from mlws.serving.images import layout, to_picture, to_sample

TOKEN = "t0k"


def call(path: str, method: str = "GET", token: str | None = TOKEN, **headers) -> tuple[int, dict, bool]:
    """(status, response headers, whether the app behind the guard was reached)."""
    reached, sent = [], []

    async def app(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    raw = [(b"host", b"127.0.0.1:9")] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "path": path, "method": method, "headers": raw}
    asyncio.run(guard.Guard(app, host="127.0.0.1", port=9, token=token)(scope, receive, send))
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, bool(reached)


def test_the_session_cookie_opens_the_demo_paths_only():
    status, headers, _ = call("/session", "POST", authorization=f"Bearer {TOKEN}", content_type="application/json")
    cookie = headers["set-cookie"]
    assert status == 204 and cookie.startswith(f"mlws-demo={guard.session_value(TOKEN)};") and TOKEN + ";" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/demo" in cookie
    jar = cookie.split(";")[0]
    assert call("/demo/config", cookie=jar)[2] is True
    assert call("/demo/config", cookie="a=b; " + jar)[2] is True
    for path in ("/predict", "/info", "/", "/docs"):
        assert call(path, cookie=jar)[:1] == (401,), path
    assert call("/demo/config", cookie="mlws-demo=" + guard.session_value("other"))[0] == 401
    assert call("/demo/config")[0] == 401 and call("/session", "POST", content_type="application/json")[0] == 401


def test_the_token_page_answers_browsers_at_both_pages():
    for path in ("/", "/demo", "/demo/"):
        status, headers, _ = call(path)
        assert status == 401 and headers["content-type"].startswith("text/html"), path
    assert call("/demo/config")[1]["content-type"] == "application/json"


def test_a_demo_post_must_come_from_its_own_page():
    jar = "mlws-demo=" + guard.session_value(TOKEN)
    form = "multipart/form-data; boundary=x"
    assert call(
        "/demo/gradio_api/upload",
        "POST",
        cookie=jar,
        content_type=form,
        origin="http://127.0.0.1:9",
        content_length="100",
    )[2]
    for origin in (None, "http://evil.example", "http://127.0.0.1:10", "null", "file://"):
        extra = {"origin": origin} if origin else {}
        assert call("/demo/gradio_api/upload", "POST", cookie=jar, content_type=form, **extra)[0] == 403, origin
    # outside /demo nothing changed: a POST still has to say JSON
    assert (
        call(
            "/predict", "POST", authorization=f"Bearer {TOKEN}", content_type="text/plain", origin="http://127.0.0.1:9"
        )[0]
        == 415
    )
    # no token: the page is open, its POSTs still same-origin only
    assert call("/demo/gradio_api/queue/join", "POST", token=None, content_type="application/json")[0] == 403
    assert call(
        "/demo/gradio_api/queue/join",
        "POST",
        token=None,
        content_type="application/json",
        origin="http://127.0.0.1:9",
        content_length="2",
    )[2]


def test_a_demo_read_from_another_origin_is_refused():
    """A page on another port of this host is same-site: the SameSite=Strict cookie goes with its
    fetch, and Gradio's CORS middleware answers with Allow-Origin and credentials. The guard refuses
    any /demo request naming another origin, so no such answer is ever made (GETs included)."""
    jar = "mlws-demo=" + guard.session_value(TOKEN)
    for token, extra in ((TOKEN, {"cookie": jar}), (None, {})):
        for origin in ("http://localhost:3000", "http://127.0.0.1:10", "null", "http://evil.example"):
            for method in ("GET", "HEAD", "OPTIONS"):
                status, _, reached = call("/demo/config", method, token=token, origin=origin, **extra)
                assert (status, reached) == (403, False), (token, origin, method)
        # the page's own GETs: no Origin (a browser sends none same-origin), or its own
        assert call("/demo/config", token=token, **extra)[2]
        assert call("/demo/config", token=token, origin="http://127.0.0.1:9", **extra)[2]


@pytest.mark.parametrize("shape", [[1, 8, 8], [8, 8], [1, 28, 28], [1, 4, 6]])
def test_a_sample_survives_its_picture_and_a_picture_is_scaled_to_the_shape(shape):
    import numpy as np

    channels, h, w = layout(shape)
    rng = np.random.default_rng(0)
    sample = rng.integers(0, 17, size=(h, w)).astype(float)
    sample[0, :] = sample[-1, :] = sample[:, 0] = sample[:, -1] = 0  # paper around the edges
    picture = to_picture(sample.reshape(shape).tolist(), shape, 0, 16, size=60)
    assert picture.shape[0] % h == 0 and picture.shape[0] // h == picture.shape[1] // w and picture.dtype == np.uint8
    back = np.asarray(to_sample(picture, shape, 0, 16)).reshape(h, w)
    assert np.abs(back - sample).max() <= 16 / 255 / 2 + 1e-6
    rgba = np.dstack([np.stack([picture] * 3, axis=2), np.full(picture.shape, 255)])  # RGBA, opaque
    assert np.asarray(to_sample(rgba, shape, 0, 16)).shape == tuple(shape)


def test_a_demo_post_is_capped_by_its_length():
    """Gradio takes 1000 files of 5 MB in one upload (5 GB on disk) and a queued event's JSON of any
    size; the guard caps a /demo POST at one file's size and its form, and wants its length said."""
    jar, own = "mlws-demo=" + guard.session_value(TOKEN), "http://127.0.0.1:9"
    form = "multipart/form-data; boundary=x"
    ok = call("/demo/gradio_api/upload", "POST", cookie=jar, origin=own, content_type=form, content_length="5200000")
    assert ok[2] is True
    for length in (str(guard.DEMO_MAX_BODY + 1), "5000000000", None, "-1", "1e9"):
        extra = {"content_length": length} if length else {}
        status, _, reached = call("/demo/gradio_api/upload", "POST", cookie=jar, origin=own, content_type=form, **extra)
        assert (status, reached) == (413, False), length


def test_a_websocket_passes_the_same_checks():
    """The guard let every websocket through unchecked (Ray Serve's proxy takes them)."""

    def ws(token=TOKEN, **headers):
        reached, sent = [], []

        async def app(scope, receive, send):
            reached.append(scope["path"])

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "websocket.connect"}

        raw = [(b"host", b"127.0.0.1:9")] + [(k.encode(), v.encode()) for k, v in headers.items()]
        scope = {"type": "websocket", "path": "/demo/gradio_api/queue/join", "headers": raw}
        asyncio.run(guard.Guard(app, host="127.0.0.1", port=9, token=token)(scope, receive, send))
        return bool(reached), sent

    jar = "mlws-demo=" + guard.session_value(TOKEN)
    assert ws() == (False, [{"type": "websocket.close", "code": 1008}])
    assert ws(cookie=jar, origin="http://localhost:3000")[0] is False
    assert ws(token=None, origin="http://evil.example")[0] is False
    assert ws(cookie=jar, origin="http://127.0.0.1:9")[0] is True
    assert ws(authorization=f"Bearer {TOKEN}")[0] is True


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_the_sketch_pad_reads_its_composite_only(tmp_path):
    """Gradio's pad decoded every layer a request named (the same big PNG, a thousand times: the
    machine's memory), kept every posted blob, and grew a list to any layer index."""
    gr = pytest.importorskip("gradio")
    import numpy as np
    from gradio.components.image_editor import AcceptBlobs, EditorData
    from gradio.data_classes import FileData
    from PIL import Image

    from mlws.serving.gradio_page import MAX_BLOBS, composite_only

    png = tmp_path / "a.png"
    Image.fromarray(np.full((40, 40, 4), 255, np.uint8)).save(png)
    decoded = []
    with gr.Blocks():
        pad = composite_only(gr.Sketchpad(type="numpy", layers=False))
    real = pad.convert_and_format_image
    pad.convert_and_format_image = lambda f, **k: decoded.append(f) or real(f, **k)
    f = FileData(path=str(png))
    value = pad.preprocess(EditorData(background=f, layers=[f] * 50, composite=f))
    assert value["composite"].shape[:2] == (40, 40) and len([d for d in decoded if d is not None]) == 1
    for i in range(3 * MAX_BLOBS):
        pad.accept_blobs(
            AcceptBlobs(data={"type": "composite", "index": None, "file": b"1", "id": f"x{i}"}, files=[("f", b"1")])
        )
    pad.accept_blobs(
        AcceptBlobs(data={"type": "layer", "index": 100_000, "file": b"1", "id": "y"}, files=[("f", b"1")])
    )
    assert len(pad.blob_storage) == MAX_BLOBS and "y" not in pad.blob_storage
    assert "accept_blobs" in pad.get_config()["server_fns"]


def test_a_picture_of_too_many_pixels_is_refused_before_it_is_read():
    """A PNG of ~200 kB can hold 13000×13000 blank pixels (under Pillow's own bomb limit); read as
    float64 it took gigabytes and seconds of the replica. Refused by its shape, before any copy."""
    import numpy as np

    from mlws.serving.images import MAX_PIXELS
    from mlws.serving.inputs import BadRequest

    side = int(MAX_PIXELS**0.5) + 1
    huge = np.broadcast_to(np.uint8(255), (side, side, 3))  # no memory behind it
    with pytest.raises(BadRequest) as e:
        to_sample(huge, [1, 8, 8], 0.0, 16.0)
    assert e.value.status == 413


def test_an_image_reading_takes_the_paper_from_the_border_and_transparency_as_paper():
    import numpy as np

    dark = np.zeros((16, 16))
    dark[4:12, 6:10] = 255  # light ink on black
    light = 255 - dark  # dark ink on white
    for picture in (dark, light):
        got = np.asarray(to_sample(picture, [1, 8, 8], 0, 1))[0]
        assert got[2:6, 3:5].min() == 1.0 and got[0].max() == 0.0
    clear = np.zeros((16, 16, 4))  # an untouched sketch pad: transparent everywhere
    assert np.asarray(to_sample(clear, [1, 8, 8], 0, 16)).max() == 0.0
    assert (
        layout([1, 5]) is None and layout([64]) is None and layout([2, 8, 8]) is None and layout([3, 8, 8]) == (3, 8, 8)
    )


def test_where_wrong_lists_the_misclassified_and_the_largest_errors():
    rows = [{"index": i, "sample": [i], "target": t} for i, t in enumerate([1, 2, 3, 4])]
    assert [r["index"] for r in where_wrong(rows, [1, 0, 3, 0], "classification")] == [1, 3]
    assert where_wrong(rows, [1, 0, 3, 0], "classification")[0]["prediction"] == 0
    got = where_wrong(rows, [1.0, 2.5, 0.0, 4.0], "regression", top=2)
    assert [(r["index"], r["error"]) for r in got] == [(2, 3.0), (1, 0.5)]
    assert where_wrong(rows, [[0.1]] * 4, "raw") == []


def test_the_card_says_what_changed_and_escapes_the_registrys_strings():
    from mlws.serving.gradio_page import card_html

    parent = {
        "id": 4,
        "experiment": "model_01",
        "config": {"model": {"lr": 0.1}, "monitor": {"metric": "val/acc"}},
        "metrics": {"val/acc": 0.5},
    }
    record = {
        "id": 5,
        "experiment": "<script>x</script>",
        "labels": ["<b>l</b>"],
        "note": "n<img src=x>",
        "config": {"model": {"lr": 0.2}, "monitor": {"metric": "val/acc"}, "description": "d&d"},
        "metrics": {"val/acc": 0.75},
    }
    card = run_card(record, parent)
    assert card["changes"] == ["model.lr: 0.1 → 0.2"] and card["parent"] == 4 and card["value"] == 0.75
    page = card_html(card)
    assert "<script>" not in page and "<img" not in page and "<b>l</b>" not in page
    assert "&lt;script&gt;" in page and "+0.2500 from run 4" in page and "model.lr: 0.1 → 0.2" in page
    assert "changed from" not in card_html(run_card(record, None))
    spread = card_html(run_card(record, parent, replicates="0.75 ± 0.01 [0.70, 0.80] <n=3>"))
    assert "over its replicate seeds: 0.75 ± 0.01 [0.70, 0.80] &lt;n=3&gt;" in spread
    assert "replicate" not in page


def test_without_the_extra_the_plain_page_says_what_the_richer_one_needs(monkeypatch):
    from mlws import extras
    from mlws.serving.app import demo_wanted
    from mlws.serving.page import demo_page

    monkeypatch.setattr(extras, "_importable", lambda m: m != "gradio")
    reason = demo_wanted({"num_replicas": 1})
    assert reason == "needs mlws[demo]: pip install 'mlws[demo]'"
    args = {"run_id": 3, "serve": {"input": {"_target_": "mlws.serving.inputs.ImageInput", "shape": [1, 8, 8]}}}
    page = demo_page({**args, "demo_missing": reason})
    assert (
        "A richer page (examples from the validation data, image upload, where the model is wrong) "
        "needs mlws[demo]: pip install &#x27;mlws[demo]&#x27;"
        in page
        and "href='demo/'" not in page
    )
    assert "href='demo/'" in demo_page({**args, "demo_missing": None})
    monkeypatch.setattr(extras, "_importable", lambda m: True)
    assert demo_wanted({"num_replicas": 1}) is None
    assert "one replica" in demo_wanted({"num_replicas": 2}) and "one replica" in demo_wanted(
        {"autoscaling": {"min_replicas": 1}}
    )


def test_the_mount_waits_for_the_page_and_says_why_it_is_missing():
    """/predict never waits for the page; a page request waits for its build, or gets 503 with the reason."""
    import contextlib

    from mlws.serving import demo_mount

    class Page:
        def __init__(self):
            self.router, self.started, self.paths = self, [], []

        @contextlib.asynccontextmanager
        async def lifespan_context(self, app):
            self.started.append(True)
            yield

        async def __call__(self, scope, receive, send):
            self.paths.append(scope["path"])
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    async def own_routes(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def get(dispatch, path):
        sent = []

        async def send(message):
            sent.append(message)

        return sent, dispatch({"type": "http", "path": path, "method": "GET", "headers": []}, None, send)

    async def scenario():
        dispatch, page = demo_mount.DemoDispatch(own_routes), Page()
        demo_mount.building()
        sent, waiting = get(dispatch, "/demo/config")
        task = asyncio.ensure_future(waiting)
        other, call = get(dispatch, "/predict")
        await call  # answered while the page is being built
        await asyncio.sleep(0.2)
        assert other[0]["status"] == 204 and not task.done()
        demo_mount.install(page)
        await task
        assert sent[0]["status"] == 200 and page.paths == ["/demo/config"] and page.started == [True]
        redirect, call = get(dispatch, "/demo")
        await call
        assert redirect[0]["status"] == 307 and (b"location", b"/demo/") in redirect[0]["headers"]
        demo_mount.failed("could not be built here: OSError: no data")
        refused, call = get(dispatch, "/demo/")
        await call
        assert refused[0]["status"] == 503 and b"OSError: no data" in refused[1]["body"]

    try:
        asyncio.run(scenario())
    finally:
        demo_mount._PAGE.clear()


def test_the_plain_page_renders_what_the_output_hook_says_it_answers():
    from mlws.serving.page import demo_page

    args = {"run_id": 3, "serve": {"input": {"shape": [3]}, "output": {"_target_": "acme.hooks.PriceInDollars"}}}
    assert 'OUTPUT = "raw"' in demo_page(args)  # a class name that says nothing: raw values
    assert 'OUTPUT = "regression"' in demo_page({**args, "output_kind": "regression"})
    assert 'OUTPUT = "raw"' in demo_page({**args, "output_kind": "<script>"})  # only the kinds the page draws
