"""The demo page, built from the run's serve hooks: a drawing canvas when the input is an image
(any height and width), a JSON box otherwise; class probabilities, values, or raw outputs back."""

from __future__ import annotations

import html
import json
import math

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>mlws · run __RUN__</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:760px}#grid{touch-action:none;border:1px solid #999;cursor:crosshair}
.bar{background:#4c78a8;height:14px}.row{display:flex;gap:8px;align-items:center;font-size:13px}.row span{width:1.5em}
#prediction{font-size:48px;font-weight:bold}button{font-size:15px;margin-right:8px}textarea{width:100%;height:8em;font-family:monospace}
pre{background:#f4f4f4;padding:.5em;overflow:auto}</style></head><body>
<h1>Run __RUN__ · __EXPERIMENT__</h1><p>__METRICS__</p><p id="richer">__RICHER__</p>
<div id="image-input" __IMAGE_STYLE__><p>Draw (hold the mouse button), then <b>Predict</b>.</p>
<canvas id="grid" width="320" height="__HEIGHT__"></canvas><br></div>
<div id="json-input" __JSON_STYLE__><p>Samples as JSON, then <b>Predict</b>:</p><textarea id="samples">__EXAMPLE__</textarea></div>
<button id="predict">Predict</button><button id="clear">Clear</button>
<p>prediction: <span id="prediction">–</span></p><div id="probs"></div><pre id="raw" hidden></pre>
<p id="error" style="color:#b00020"></p>
<script>
const ROWS = __ROWS__, COLS = __COLS__, MAX = __MAX__, IMAGE = __IMAGE__, OUTPUT = "__OUTPUT__";
const canvas = document.getElementById('grid'), ctx = canvas.getContext('2d');
let pixels = new Array(ROWS * COLS).fill(0), drawing = false;
function render() {
  const s = canvas.width / COLS;
  for (let i = 0; i < ROWS * COLS; i++) {
    const v = 255 - Math.round(255 * pixels[i] / MAX);
    ctx.fillStyle = `rgb(${v},${v},${v})`; ctx.fillRect((i % COLS) * s, Math.floor(i / COLS) * s, s, s);
  }
}
function paint(e) {
  const r = canvas.getBoundingClientRect(), s = r.width / COLS;
  const cx = Math.floor((e.clientX - r.left) / s), cy = Math.floor((e.clientY - r.top) / s);
  const side = MAX * 6 / 16;
  for (const [dx, dy, w] of [[0,0,MAX],[1,0,side],[-1,0,side],[0,1,side],[0,-1,side]]) {
    const x = cx + dx, y = cy + dy;
    if (x >= 0 && x < COLS && y >= 0 && y < ROWS) pixels[y * COLS + x] = Math.min(MAX, pixels[y * COLS + x] + w);
  }
  render();
}
canvas.addEventListener('pointerdown', e => { drawing = true; paint(e); });
canvas.addEventListener('pointermove', e => { if (drawing) paint(e); });
window.addEventListener('pointerup', () => { drawing = false; });
document.getElementById('clear').onclick = () => { pixels.fill(0); render(); };
window.setPixels = values => { pixels = values.slice(); render(); };  // for scripted demos and tests
function show(data) {
  const probs = document.getElementById('probs'), raw = document.getElementById('raw');
  if (OUTPUT === 'raw') { raw.hidden = false; raw.textContent = JSON.stringify(data.outputs); return; }
  const first = data.predictions[0];
  document.getElementById('prediction').textContent = typeof first === 'number' && !Number.isInteger(first)
    ? first.toPrecision(6) : JSON.stringify(first);
  if (OUTPUT === 'classification') probs.innerHTML = data.probabilities[0].map((p, k) =>
    `<div class="row"><span>${k}</span><div class="bar" style="width:${Math.round(p * 400)}px"></div>${(100 * p).toFixed(1)}%</div>`).join('');
}
async function predict() {
  document.getElementById('error').textContent = '';
  const headers = {'content-type': 'application/json'};
  const token = sessionStorage.getItem('mlws-token');  // given once on the token page, never in the URL
  if (token) headers['authorization'] = 'Bearer ' + token;
  let body;
  try { body = IMAGE ? JSON.stringify({inputs: [pixels]}) : JSON.stringify({inputs: JSON.parse(document.getElementById('samples').value)}); }
  catch (e) { document.getElementById('error').textContent = 'not valid JSON: ' + e.message; return; }
  const r = await fetch('predict', {method: 'POST', headers, body});
  const data = await r.json();
  if (!r.ok) { document.getElementById('error').textContent = data.error; return; }
  show(data);
}
document.getElementById('predict').onclick = predict;
render();
</script></body></html>"""


def demo_page(args: dict) -> str:
    serve = args.get("serve") or {}
    shape = [int(d) for d in (serve.get("input") or {}).get("shape") or []]
    image = _image_shape(serve.get("input") or {})
    rows, cols = image or (1, 1)
    top = (serve.get("input") or {}).get("max_value")
    output = _output_kind(serve.get("output") or {}, args.get("output_kind"))
    example = json.dumps([[0.0] * math.prod(shape)] if shape and math.prod(shape) <= 64 else [[]])
    metrics = ", ".join(
        f"{k} = {v:.4f}" for k, v in sorted((args.get("metrics") or {}).items()) if isinstance(v, float)
    )
    return (
        PAGE.replace("__RUN__", str(int(args["run_id"])))
        .replace("__EXPERIMENT__", html.escape(str(args.get("experiment") or "-")))
        .replace("__METRICS__", html.escape(metrics or json.dumps({})))
        .replace("__ROWS__", str(rows))
        .replace("__COLS__", str(cols))
        .replace("__HEIGHT__", str(round(320 * rows / cols)))
        .replace("__MAX__", json.dumps(float(top) if isinstance(top, (int, float)) and top > 0 else 1.0))
        .replace("__IMAGE__", "true" if image else "false")
        .replace("__OUTPUT__", output)
        .replace("__IMAGE_STYLE__", "" if image else "hidden")
        .replace("__JSON_STYLE__", "hidden" if image else "")
        .replace("__EXAMPLE__", html.escape(example))
        .replace("__RICHER__", richer_line(args.get("demo_missing", "needs mlws[demo]: pip install 'mlws[demo]'")))
    )


def richer_line(missing: str | None) -> str:
    """A link to the Gradio page, or what it needs."""
    if missing is None:
        return (
            "The full demo page, with examples from the validation data, image upload and where the model "
            "is wrong: <a id='demo-link' href='demo/'>demo/</a>"
        )
    return "A richer page (examples from the validation data, image upload, where the model is wrong) " + html.escape(
        missing
    )


def _image_shape(input_cfg: dict) -> tuple[int, int] | None:
    """(height, width) when the input hook takes one-channel images ([H, W] or [1, H, W])."""
    if not str(input_cfg.get("_target_", "")).endswith("ImageInput"):
        return None
    shape = [int(d) for d in input_cfg.get("shape") or []]
    if len(shape) == 3 and shape[0] == 1:
        shape = shape[1:]
    return (shape[0], shape[1]) if len(shape) == 2 and min(shape) > 1 else None


def _output_kind(output_cfg: dict, kind: str | None = None) -> str:
    """The hook's own `kind` (a user's hook says what it answers); else guessed from its class name."""
    if kind in ("classification", "regression", "raw"):
        return kind
    target = str(output_cfg.get("_target_") or "mlws.serving.outputs.Classification")
    name = target.rsplit(".", 1)[-1].lower()
    return name if name in ("classification", "regression", "raw") else "raw"
