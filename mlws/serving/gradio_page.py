"""The demo page with Gradio (mlws[demo]), built in each replica around its model and mounted under
/demo on the server's own FastAPI app (see demo_mount): the JSON API, batching and the token stay.

Its parts follow the run's serve hooks: an image input gets a sketch pad and an upload box (scaled
to the input's shape and range), any other input a numeric table; a classification answer shows
the top labels with their probabilities, any other the values. Examples come from the run's own
validation data with their true targets, and a tab lists the validation samples the model gets
wrong. The header is the run's card. Offline: no analytics, no web fonts, nothing fetched.
"""

from __future__ import annotations

import html
import json
import os

from .images import layout, to_picture, to_sample
from .inputs import BadRequest

N_EXAMPLES = 12
TOP_K = 5
CSS = (
    ".mlws-card{font-size:14px;line-height:1.5}.mlws-card code{background:#f3f3f3;padding:0 3px}"
    ".mlws-label{background:#e8eefc;border-radius:4px;padding:0 5px;margin-right:3px}"
)


class Demo:
    """The page's logic, apart from Gradio: one request's answer, exactly as POST /predict gives it."""

    def __init__(self, server):
        from .examples import collect, where_wrong

        self.model, self.to_tensor, self.to_answer = server.model, server.to_tensor, server.to_answer
        self.args = server.args
        self.kind = getattr(self.to_answer, "kind", "raw")
        self.own_output = None  # (component, answer -> its value) when the output hook declares one
        self.shape = list(getattr(self.to_tensor, "shape", ()) or ())
        hook = self.to_tensor
        self.image = layout(self.shape) if self.shape and input_kind(hook) == "image" else None
        self.lo = float(hook.min_value) if getattr(hook, "min_value", None) is not None else 0.0
        self.hi = float(hook.max_value) if getattr(hook, "max_value", None) is not None else 1.0
        data = collect(self.args["config"]["data"], hook, N_EXAMPLES)
        self.examples, self.validation, self.cut = data["examples"], data["validation"], data["cut"]
        self.names = data["names"]
        predictions: list = []
        for start in range(0, len(self.validation), 256):
            chunk = [r["sample"] for r in self.validation[start : start + 256]]
            predictions += self.answer(chunk).get("predictions") or []
        self.wrong = where_wrong(self.validation, predictions, self.kind)

    def answer(self, samples: list) -> dict:
        from .predict import forward

        return self.to_answer(forward(self.model, self.to_tensor(samples)))

    def shown(self, answer: dict):
        """The answer as the page's result component takes it."""
        if self.own_output:
            return self.own_output[1](answer)
        if self.kind == "classification" and answer.get("probabilities"):
            return {self.label(k): p for k, p in enumerate(answer["probabilities"][0])}
        if self.kind == "classification" and answer.get("predictions"):
            return self.label(answer["predictions"][0])  # a hook without probabilities: the class alone
        return answer.get("predictions", answer.get("outputs"))

    def label(self, k) -> str:
        return str(self.names[k]) if self.names and isinstance(k, int) and 0 <= k < len(self.names) else str(k)

    def run(self, sample, caption: str):
        """Everything a prediction updates: result, the sample as sent, the answer, the caption, the picture."""
        import gradio as gr

        try:
            answer = self.answer([sample])
        except BadRequest as e:
            raise gr.Error(e.message) from None
        answer = {**answer, "run_id": self.args["run_id"]}
        picture = to_picture(sample, self.shape, self.lo, self.hi) if self.image else None
        return self.shown(answer), json.dumps(sample), json.dumps(answer), caption, picture

    def caption(self, row: dict, prefix: str = "") -> str:
        """`#3 true 5` (`, got 8` for a wrong one): the gallery's label; with a prefix, the page's."""
        shown = lambda v: self.label(v) if self.kind == "classification" else _short(v)
        text = f"#{row['index']} true {shown(row['target'])}"
        if "prediction" in row:
            text += f", got {shown(row['prediction'])}"
        return f"{prefix} {text}" if prefix else text


def input_kind(hook) -> str:
    """ "image" or "tensor": a hook may say (`kind`); else ImageInput is an image, the rest tensors."""
    from .inputs import ImageInput, TensorInput

    default = "image" if isinstance(hook, ImageInput) and not isinstance(hook, TensorInput) else "tensor"
    return getattr(hook, "kind", default)


def build(server):
    """A FastAPI app answering under /demo: the Gradio page of this replica's model."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from fastapi import FastAPI
    from PIL import Image

    from .images import MAX_PIXELS

    # Gradio decodes an upload before our function sees it: Pillow refuses over twice this (a PNG
    # of a few hundred kB can hold a picture of gigabytes)
    Image.MAX_IMAGE_PIXELS = min(Image.MAX_IMAGE_PIXELS or MAX_PIXELS, MAX_PIXELS)
    demo = Demo(server)
    blocks = _blocks(gr, demo)
    host = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    gr.mount_gradio_app(
        host,
        blocks,
        path="/demo",
        footer_links=[],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        max_file_size="5mb",
        theme=theme,
        css=CSS,
    )
    return host


def _blocks(gr, demo: Demo):
    card = demo.args.get("card") or {"run_id": demo.args["run_id"], "experiment": demo.args.get("experiment")}
    with gr.Blocks(title=f"mlws · run {int(demo.args['run_id'])}") as blocks:
        gr.HTML(card_html(card), elem_classes="mlws-card")
        with gr.Row():
            with gr.Column():
                source = _inputs(gr, demo)
            with gr.Column():
                if hasattr(demo.to_answer, "gradio_output"):  # the hook's own: (component, answer -> its value)
                    demo.own_output = demo.to_answer.gradio_output(gr)
                    result = demo.own_output[0]
                elif demo.kind == "classification":
                    result = gr.Label(num_top_classes=TOP_K, label="prediction", elem_id="mlws-result")
                else:
                    result = gr.JSON(label="prediction", elem_id="mlws-result")
                caption = gr.Markdown(elem_id="mlws-caption")
                seen = gr.Image(
                    label="what the model sees",
                    elem_id="mlws-seen",
                    interactive=False,
                    visible=bool(demo.image),
                    height=160,
                )
                sample = gr.Textbox(label="the sample sent", elem_id="mlws-sample", lines=2, max_lines=4)
                answer = gr.Textbox(
                    label="the answer, as POST /predict gives it", elem_id="mlws-answer", lines=2, max_lines=4
                )
        outputs = [result, sample, answer, caption, seen]
        source(outputs)
        with gr.Tabs():
            with gr.Tab(f"examples ({len(demo.examples)}, from the validation data)", elem_id="mlws-examples-tab"):
                _listing(gr, demo, demo.examples, "example", "mlws-examples", outputs)
            shown_wrong = "where it is wrong" + (
                f" ({len(demo.wrong)} of {len(demo.validation)}{'+' if demo.cut else ''} validation samples)"
            )
            with gr.Tab(shown_wrong, elem_id="mlws-wrong-tab"):
                if demo.kind in ("classification", "regression"):
                    _listing(gr, demo, demo.wrong, "validation", "mlws-wrong", outputs)
                else:
                    gr.Markdown("The output hook returns raw tensors: there is no right answer to compare with.")
    return blocks


def _inputs(gr, demo: Demo):
    """The input components for the hook; returns a function wiring them to the outputs."""
    own = getattr(demo.to_tensor, "gradio_input", None)
    if own:  # the input hook's own component: (component, its value -> one request sample)
        component, to_request = own(gr)
        button = gr.Button("Predict", variant="primary", elem_id="mlws-predict")
        return lambda outputs: button.click(lambda value: demo.run(to_request(value), "your input"), component, outputs)
    if demo.image:
        channels, height, width = demo.image
        k = max(1, 256 // max(height, width))
        with gr.Tab("draw"):
            pad = gr.Sketchpad(
                canvas_size=(width * k, height * k),
                fixed_canvas=True,
                type="numpy",
                brush=gr.Brush(default_size=max(2, k), colors=["#000000"], color_mode="fixed"),
                label=f"draw ({height}×{width} once scaled)",
                elem_id="mlws-pad",
                layers=False,
            )
            composite_only(pad)
            drawn = gr.Button("Predict the drawing", variant="primary", elem_id="mlws-predict")
        with gr.Tab("upload", elem_id="mlws-upload-tab"):
            upload = gr.Image(
                type="numpy",
                label=f"an image (scaled to {height}×{width}, values {demo.lo:g}..{demo.hi:g})",
                elem_id="mlws-upload",
                sources=["upload", "clipboard"],
            )

        def scaled(picture):
            try:
                return to_sample(picture, demo.shape, demo.lo, demo.hi)
            except BadRequest as e:  # too many pixels
                raise gr.Error(e.message) from None

        def wire_pictures(outputs):
            def from_pad(value):
                picture = (value or {}).get("composite")
                if picture is None:
                    raise gr.Error("draw something first")
                return demo.run(scaled(picture), "your drawing")

            def from_upload(picture):
                if picture is None:
                    raise gr.Error("no image")
                return demo.run(
                    scaled(picture), f"your image, {picture.shape[0]}×{picture.shape[1]} scaled to {height}×{width}"
                )

            drawn.click(from_pad, pad, outputs)
            upload.upload(from_upload, upload, outputs)

        return wire_pictures

    import math

    size = math.prod(demo.shape) if demo.shape else 1
    rows, cols = (demo.shape[0], demo.shape[1]) if len(demo.shape) == 2 else (1, size)
    table = gr.Dataframe(
        value=[[0.0] * cols for _ in range(rows)],
        headers=[str(i) for i in range(cols)],
        datatype="number",
        row_count=rows,
        column_count=cols,
        interactive=True,
        label=f"input: {demo.shape} numbers",
        elem_id="mlws-table",
    )
    button = gr.Button("Predict", variant="primary", elem_id="mlws-predict")

    def wire_table(outputs):
        def from_table(frame):
            values = [[float(v) for v in row] for row in frame.values.tolist()]
            flat = [v for row in values for v in row]
            import numpy as np

            return demo.run(np.asarray(flat).reshape(demo.shape).tolist(), "your numbers")

        button.click(from_table, table, outputs)

    return wire_table


MAX_BLOBS = 16  # drawings held between a pad's upload of its picture and the event reading it


def composite_only(pad):
    """The sketch pad reads its composite only. Gradio's decodes every layer a request lists (one
    uploaded 16-million-pixel PNG named 20 times took 1.3 GB; named a thousand times, the machine's
    memory), keeps every blob a client posts (`accept_blobs`, any id, never dropped unless read) and
    grows a list to any layer index given. (The instance's methods are replaced, not subclassed:
    Gradio writes a .pyi beside the module of any component class.)"""
    from gradio.components.base import server
    from gradio.components.image_editor import EditorDataBlobs

    plain = pad.preprocess

    def preprocess(payload):
        if payload is not None:
            payload = payload.model_copy(update={"layers": [], "background": None})
        return plain(payload)

    @server  # marks it as a method the page may call
    def accept_blobs(data):
        if data.data["type"] != "composite" or not data.files:
            return
        while len(pad.blob_storage) >= MAX_BLOBS:
            pad.blob_storage.pop(next(iter(pad.blob_storage)))
        pad.blob_storage[str(data.data["id"])] = EditorDataBlobs(background=None, layers=[], composite=data.files[0][1])

    pad.preprocess, pad.accept_blobs = preprocess, accept_blobs
    return pad


def _listing(gr, demo: Demo, rows: list[dict], prefix: str, elem_id: str, outputs) -> None:
    """Samples to click: a gallery of pictures for an image input, a table otherwise."""
    if not rows:
        gr.Markdown("None." if prefix == "validation" else "The data module gave no validation samples.")
        return
    if demo.image:
        items = [(to_picture(r["sample"], demo.shape, demo.lo, demo.hi, size=96), demo.caption(r)) for r in rows]
        listing = gr.Gallery(
            value=items,
            columns=10,
            height=360,
            allow_preview=False,
            elem_id=elem_id,
            show_label=False,
            object_fit="contain",
        )
    else:
        listing = gr.Dataframe(
            value=[[demo.caption(r), json.dumps(r["sample"])[:200]] for r in rows],
            headers=["sample", "values"],
            interactive=False,
            elem_id=elem_id,
        )

    def pick(evt):
        i = evt.index if isinstance(evt.index, int) else evt.index[0]
        return demo.run(rows[i]["sample"], demo.caption(rows[i], prefix))

    pick.__annotations__ = {"evt": gr.SelectData}  # how Gradio knows to pass the event (a real class here)
    listing.select(pick, None, outputs)


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else json.dumps(value)[:40]


def card_html(card: dict) -> str:
    """The run's story in a few lines; every string from the registry is escaped."""
    e = lambda v: html.escape(str(v))
    title = f"<h2>Run {int(card['run_id'])} · {e(card.get('experiment') or '-')}</h2>"
    lines = []
    if card.get("description"):
        lines.append(f"<p>{e(card['description'])}</p>")
    metric, value = card.get("metric"), card.get("value")
    if metric and isinstance(value, (int, float)):
        step = ""
        if isinstance(card.get("parent_value"), (int, float)):
            step = f" ({value - card['parent_value']:+.4f} from run {int(card['parent'])})"
        lines.append(f"<p><b>{e(metric)}</b> = {value:.4f}{step} · {e(card.get('mode') or 'max')} is better</p>")
        if card.get("replicates"):  # the spread over the run's seeds
            lines.append(f"<p>over its replicate seeds: {e(card['replicates'])}</p>")
    if card.get("parent"):
        changes = "".join(f"<li><code>{e(c)}</code></li>" for c in card.get("changes") or [])
        more = f"<li>… and {int(card['more_changes'])} more</li>" if card.get("more_changes") else ""
        lines.append(
            f"<p>changed from run {int(card['parent'])} ({e(card.get('parent_experiment') or '-')}):</p>"
            f"<ul>{changes or '<li>nothing in the config</li>'}{more}</ul>"
        )
    if card.get("labels"):
        lines.append("<p>" + "".join(f"<span class='mlws-label'>{e(l)}</span>" for l in card["labels"]) + "</p>")
    if card.get("note"):
        lines.append(f"<p><em>{e(card['note'])}</em></p>")
    lines.append(
        "<p>The run's whole story: <code>mlws report</code> (runs/report.html) · "
        "the JSON API: <code>POST /predict</code></p>"
    )
    return title + "".join(lines)
