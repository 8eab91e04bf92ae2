"""One self-contained HTML page: runs table, key metric along the lineage, training curves,
lineage graph, and each step's diff. Charts are plotly figures with plotly.js embedded once."""
from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

from ..monitor.snapshot import read_jsonl

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
th{background:#f4f4f4;position:sticky;top:0}.succeeded{color:#197a2e}.failed{color:#b00020}.stopped{color:#8a2be2}
.running{color:#b8860b}.step{border-left:3px solid #4c78a8;padding:4px 12px;margin:8px 0}.step code{background:#f6f6f6}
.label{background:#e8eefc;border-radius:4px;padding:0 5px;margin-right:3px;font-size:12px}.scroll{max-height:420px;overflow:auto}
"""


def build_report(runs: list[dict], chain: list[dict], curves: dict[int, list[dict]], metric: str, mode: str,
                 loss: str | None,
                 title: str = "mlws report") -> str:
    """runs: summaries; chain: lineage steps (root → best); curves: {run id: metrics.jsonl rows}."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    figures = [("key metric along the lineage", _chain_figure(go, chain, metric)),
               ("training curves", _curves_figure(go, curves, runs, [k for k in (metric, loss) if k])),
               ("lineage graph", _graph_figure(go, runs, metric))]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>{len(runs)} runs · generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · "
             f"key metric <code>{html.escape(metric)}</code> ({mode} is better)</p>",
             _story(chain, metric)]
    for heading, fig in figures:
        fig.update_layout(height=380, margin=dict(l=40, r=20, t=30, b=40), template="plotly_white")
        parts.append(f"<h2>{heading}</h2>" + fig.to_html(full_html=False, include_plotlyjs=False,
                                                        config={"displaylogo": False}))
    parts.append("<h2>runs</h2>" + _table(runs, metric, loss))
    body = "\n".join(parts)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style><script>{get_plotlyjs()}</script></head><body>{body}</body></html>")


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.4f}" if isinstance(v, float) else html.escape(str(v))


def _story(chain: list[dict], metric: str) -> str:
    if not chain:
        return "<p>No lineage yet.</p>"
    out = [f"<h2>from baseline to run {chain[-1]['id']}: {len(chain)} steps</h2>"]
    for step in chain:
        delta = "" if step["delta"] is None else f" ({step['delta']:+.4f})"
        labels = "".join(f"<span class='label'>{html.escape(l)}</span>" for l in step["labels"])
        changes = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in step["summary"])
        note = f"<p><em>{html.escape(step['note'])}</em></p>" if step["note"] else ""
        out.append(f"<div class='step'><b>run {step['id']}</b> {html.escape(step['experiment'] or '-')} {labels} "
                   f"· {html.escape(metric)} = {_fmt(step['value'])}{delta}<br>"
                   f"{html.escape(step['description'] or '')}<ul>{changes}</ul>{note}</div>")
    return "\n".join(out)


def _chain_figure(go, chain, metric):
    fig = go.Figure(go.Scatter(x=[f"run {s['id']}<br>{s['experiment']}" for s in chain],
                               y=[s["value"] for s in chain], mode="lines+markers",
                               text=[s["description"] for s in chain], hovertemplate="%{x}<br>%{y:.4f}<br>%{text}"))
    fig.update_yaxes(title=metric)
    return fig


def _curves_figure(go, curves, runs, keys: list[str]):
    """One panel per key (the key metric, and the loss when the runs have one), a curve per run."""
    from plotly.subplots import make_subplots
    names = {r["id"]: r.get("experiment") or "-" for r in runs}
    fig = make_subplots(rows=1, cols=len(keys), subplot_titles=tuple(keys))
    for run_id, rows in curves.items():
        for col, key in enumerate(keys, start=1):
            points = [(r["epoch"], r[key]) for r in rows if key in r]
            if points:
                fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                                         name=f"run {run_id} {names.get(run_id, '')}", legendgroup=str(run_id),
                                         showlegend=col == 1), row=1, col=col)
    fig.update_xaxes(title="epoch")
    return fig


def chain_depths(runs: list[dict]) -> dict[int, int]:
    """{id: steps from its root}; a parent may be newer than its child (re-linked lineage)."""
    parent_of = {r["id"]: r.get("parent_id") for r in runs}
    depth: dict[int, int] = {}
    for run_id in parent_of:
        path = [run_id]
        while path[-1] not in depth and parent_of.get(path[-1]) in parent_of and parent_of[path[-1]] not in path:
            path.append(parent_of[path[-1]])
        base = depth.get(path[-1], 0) if path[-1] in depth else 0
        if path[-1] not in depth:
            depth[path[-1]] = 0
        for offset, node in enumerate(reversed(path[:-1]), start=1):
            depth[node] = base + offset
    return depth


def _graph_figure(go, runs, metric):
    """Runs as nodes (x: depth from a root, y: order), parent → child as lines."""
    by_id = {r["id"]: r for r in runs}
    depth = chain_depths(runs)
    row_of: dict[int, int] = {}
    counts: dict[int, int] = {}
    for r in runs:
        d = depth[r["id"]]
        row_of[r["id"]] = counts.get(d, 0)
        counts[d] = counts.get(d, 0) + 1
    ex, ey = [], []
    for r in runs:
        parent = r.get("parent_id")
        if parent in by_id:
            ex += [depth[parent], depth[r["id"]], None]
            ey += [row_of[parent], row_of[r["id"]], None]
    values = [(r.get("metrics") or {}).get(metric) for r in runs]
    fig = go.Figure([
        go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#bbb", width=1), hoverinfo="skip", showlegend=False),
        go.Scatter(x=[depth[r["id"]] for r in runs], y=[row_of[r["id"]] for r in runs], mode="markers+text",
                   text=[str(r["id"]) for r in runs] if len(runs) <= 200 else None, textposition="top center",
                   marker=dict(size=9, color=[v if v is not None else 0 for v in values], colorscale="Viridis",
                               showscale=True, colorbar=dict(title=metric)),
                   hovertext=[f"run {r['id']} {r.get('experiment') or '-'} {r['status']} {metric}={_fmt(v)}"
                              for r, v in zip(runs, values)], hoverinfo="text", showlegend=False)])
    fig.update_xaxes(title="steps from the first baseline")
    fig.update_yaxes(visible=False)
    return fig


def _table(runs: list[dict], metric: str, loss: str | None) -> str:
    head = "<tr><th>id</th><th>experiment</th><th>status</th><th>%s</th><th>%s</th><th>parent</th>" \
           "<th>labels</th><th>overrides</th><th>note</th><th>created</th></tr>" % (html.escape(metric),
                                                                                     html.escape(loss or ""))
    rows = []
    for r in reversed(runs):
        m = r.get("metrics") or {}
        labels = "".join(f"<span class='label'>{html.escape(l)}</span>" for l in r.get("labels") or [])
        rows.append(f"<tr><td>{r['id']}</td><td>{html.escape(r.get('experiment') or '-')}</td>"
                    f"<td class='{r['status']}'>{r['status']}</td><td>{_fmt(m.get(metric))}</td>"
                    f"<td>{_fmt(m.get(loss)) if loss else ''}</td><td>{_fmt(r.get('parent_id'))}</td><td>{labels}</td>"
                    f"<td>{html.escape(' '.join(r.get('overrides') or []))}</td>"
                    f"<td>{html.escape((r.get('note') or '')[:120])}</td><td>{r['created_at'][:19]}</td></tr>")
    return f"<div class='scroll'><table>{head}{''.join(rows)}</table></div>"


def read_curves(runs: list[dict], ids: list[int]) -> dict[int, list[dict]]:
    by_id = {r["id"]: r for r in runs}
    return {i: read_jsonl(Path(by_id[i]["run_dir"]) / "metrics.jsonl") for i in ids if i in by_id and by_id[i].get("run_dir")}

