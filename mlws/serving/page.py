"""The demo page: draw a digit on an 8x8 grid, see the predicted class and its probabilities."""
from __future__ import annotations

import html
import json

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>mlws · run __RUN__</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:760px}#grid{touch-action:none;border:1px solid #999;cursor:crosshair}
.bar{background:#4c78a8;height:14px}.row{display:flex;gap:8px;align-items:center;font-size:13px}.row span{width:1.5em}
#prediction{font-size:48px;font-weight:bold}button{font-size:15px;margin-right:8px}</style></head><body>
<h1>Run __RUN__ · __EXPERIMENT__</h1><p>__METRICS__</p>
<p>Draw a digit (hold the mouse button), then <b>Predict</b>.</p>
<canvas id="grid" width="320" height="320"></canvas><br>
<button id="predict">Predict</button><button id="clear">Clear</button>
<p>prediction: <span id="prediction">–</span></p><div id="probs"></div><p id="error" style="color:#b00020"></p>
<script>
const N = 8, MAX = 16, canvas = document.getElementById('grid'), ctx = canvas.getContext('2d');
let pixels = new Array(N * N).fill(0), drawing = false;
function render() {
  const s = canvas.width / N;
  for (let i = 0; i < N * N; i++) {
    const v = 255 - Math.round(255 * pixels[i] / MAX);
    ctx.fillStyle = `rgb(${v},${v},${v})`; ctx.fillRect((i % N) * s, Math.floor(i / N) * s, s, s);
  }
}
function paint(e) {
  const r = canvas.getBoundingClientRect(), s = r.width / N;
  const cx = Math.floor((e.clientX - r.left) / s), cy = Math.floor((e.clientY - r.top) / s);
  for (const [dx, dy, w] of [[0,0,MAX],[1,0,6],[-1,0,6],[0,1,6],[0,-1,6]]) {
    const x = cx + dx, y = cy + dy;
    if (x >= 0 && x < N && y >= 0 && y < N) pixels[y * N + x] = Math.min(MAX, pixels[y * N + x] + w);
  }
  render();
}
canvas.addEventListener('pointerdown', e => { drawing = true; paint(e); });
canvas.addEventListener('pointermove', e => { if (drawing) paint(e); });
window.addEventListener('pointerup', () => { drawing = false; });
document.getElementById('clear').onclick = () => { pixels.fill(0); render(); };
window.setPixels = values => { pixels = values.slice(); render(); };  // for scripted demos and tests
async function predict() {
  document.getElementById('error').textContent = '';
  const headers = {'content-type': 'application/json'};
  const token = new URLSearchParams(location.search).get('token');
  if (token) headers['authorization'] = 'Bearer ' + token;
  const r = await fetch('predict', {method: 'POST', headers, body: JSON.stringify({inputs: [pixels]})});
  const data = await r.json();
  if (!r.ok) { document.getElementById('error').textContent = data.error; return; }
  document.getElementById('prediction').textContent = data.predictions[0];
  document.getElementById('probs').innerHTML = data.probabilities[0].map((p, k) =>
    `<div class="row"><span>${k}</span><div class="bar" style="width:${Math.round(p * 400)}px"></div>${(100 * p).toFixed(1)}%</div>`).join('');
}
document.getElementById('predict').onclick = predict;
render();
</script></body></html>"""


def demo_page(args: dict) -> str:
    metrics = ", ".join(f"{k} = {v:.4f}" for k, v in sorted((args.get("metrics") or {}).items()) if isinstance(v, float))
    return (PAGE.replace("__RUN__", str(int(args["run_id"])))
            .replace("__EXPERIMENT__", html.escape(str(args.get("experiment") or "-")))
            .replace("__METRICS__", html.escape(metrics or json.dumps({}))))
