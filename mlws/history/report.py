"""One self-contained HTML page: runs table, key metric along the lineage, training curves,
lineage graph, and each step's diff. Charts are plotly figures with plotly.js embedded once.

Each run drawn gets one colour, the same in every chart (the legend, the curves, the chain, the
graph and the story). With thousands of runs only the chain and the top-N curves are drawn; the
graph keeps those runs and their ancestors, and the table lists every run."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..monitor.snapshot import read_jsonl

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
th{background:#f4f4f4;position:sticky;top:0}.succeeded{color:#197a2e}.failed{color:#b00020}.stopped{color:#8a2be2}
.running{color:#b8860b}.step{border-left:3px solid #4c78a8;padding:4px 12px;margin:8px 0}.step code{background:#f6f6f6}
.label{background:#e8eefc;border-radius:4px;padding:0 5px;margin-right:3px;font-size:12px}.scroll{max-height:420px;overflow:auto}
"""


def build_report(
    runs: Sequence[Mapping[str, Any]],
    chain: list[dict],
    curves: dict[int, list[dict]],
    metric: str,
    mode: str,
    loss: str | None,
    title: str = "mlws report",
    costs: dict[int, dict] | None = None,
) -> str:
    """runs: summaries; chain: lineage steps (root → best); curves: {run id: metrics.jsonl rows};
    costs: {run id: cost} (mlws/spend), for the cost chart when any run has a price."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    colours = run_colours([s["id"] for s in chain] + list(curves))
    drawn = graph_runs(runs, colours)
    graph_heading = (
        "lineage graph"
        if len(drawn) == len(runs)
        else (
            f"lineage graph ({len(drawn)} of {len(runs)} runs: the coloured ones and their ancestors; all in the table)"
        )
    )
    figures = [
        ("key metric along the lineage", _chain_figure(go, chain, metric, colours)),
        ("training curves", _curves_figure(go, curves, runs, [k for k in (metric, loss) if k], colours)),
        (graph_heading, _graph_figure(go, drawn, metric, colours)),
    ]
    from .cost_chart import cost_figure

    spend = cost_figure(go, runs, costs or {}, metric, mode, colours, OTHER)
    if spend is not None:
        figures.append((f"cost against {html.escape(metric)} (the line: the cheapest run for each level)", spend))
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(runs)} runs · generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · "
        f"key metric <code>{html.escape(metric)}</code> ({mode} is better)</p>",
        _story(chain, metric, colours),
    ]
    for heading, fig in figures:
        fig.update_layout(height=380, margin=dict(l=40, r=20, t=30, b=40), template="plotly_white")
        parts.append(
            f"<h2>{heading}</h2>" + fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
        )
    parts.append("<h2>runs</h2>" + _table(runs, metric, loss))
    body = "\n".join(parts)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style><script>{get_plotlyjs()}</script></head><body>{body}</body></html>"
    )


PALETTE = (
    "#636efa",
    "#ef553b",
    "#00cc96",
    "#ab63fa",
    "#ffa15a",
    "#19d3f3",
    "#ff6692",
    "#b6e880",
    "#ff97ff",
    "#fecb52",
)  # plotly's own ten; past ten, hues a golden angle apart
OTHER = "#c4c4c4"  # a run drawn without a colour of its own (the graph's other nodes)
GRAPH_LIMIT = 400  # past this many runs the graph keeps the coloured runs and their ancestors
TOP_N = 5  # the best runs whose curves join the chain's


def run_colours(ids) -> dict[int, str]:
    """{run id: colour}, in first-seen order; every id its own colour."""
    import colorsys

    out: dict[int, str] = {}
    for run_id in ids:
        if run_id in out:
            continue
        n = len(out)
        if n < len(PALETTE):
            out[run_id] = PALETTE[n]
        else:
            r, g, b = colorsys.hls_to_rgb(((n - len(PALETTE)) * 0.381966 + 0.05) % 1.0, 0.45, 0.75)
            out[run_id] = "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))
    return out


def curve_ids(
    runs: Sequence[Mapping[str, Any]], chain: list[dict], metric: str, mode: str, n: int = TOP_N
) -> list[int]:
    """The runs whose curves are drawn: the chain's last 8 steps, then the n best runs besides."""
    ids = [s["id"] for s in chain][-8:]
    scored = [
        r
        for r in runs
        if r.get("status") == "succeeded" and isinstance((r.get("metrics") or {}).get(metric), (int, float))
    ]
    scored.sort(key=lambda r: (r["metrics"][metric] * (-1 if mode == "max" else 1), r["id"]))
    return ids + [r["id"] for r in scored if r["id"] not in ids][:n]


def graph_runs(
    runs: Sequence[Mapping[str, Any]], colours: dict[int, str], limit: int = GRAPH_LIMIT
) -> Sequence[Mapping[str, Any]]:
    """Every run when there are few; else the coloured runs and their ancestors, in registry order."""
    if len(runs) <= limit:
        return runs
    by_id = {r["id"]: r for r in runs}
    keep: set[int] = set()
    for run_id in colours:
        while run_id in by_id and run_id not in keep:
            keep.add(run_id)
            run_id = by_id[run_id].get("parent_id")
    return [r for r in runs if r["id"] in keep]


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.4f}" if isinstance(v, float) else html.escape(str(v))


def _story(chain: list[dict], metric: str, colours: dict[int, str] | None = None) -> str:
    if not chain:
        return "<p>No lineage yet.</p>"
    out = [f"<h2>from baseline to run {chain[-1]['id']}: {len(chain)} steps</h2>"]
    from .groups import step_lines

    for step in chain:
        if (step.get("replicates") or {}).get("same_group_as_previous"):
            continue  # the same replicate group as the step before: one step
        delta = "" if step["delta"] is None else f" ({step['delta']:+.4f})"
        labels = "".join(f"<span class='label'>{html.escape(l)}</span>" for l in step["labels"])
        changes = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in step["summary"])
        note = f"<p><em>{html.escape(step['note'])}</em></p>" if step["note"] else ""
        if step.get("data"):
            note += f"<p class='data'>data: <code>{html.escape(step['data'])}</code></p>"
        note += "".join(f"<p class='replicates'>{html.escape(line)}</p>" for line in step_lines(step))
        colour = (colours or {}).get(step["id"], OTHER)
        out.append(
            f"<div class='step' style='border-left-color:{colour}'><b>run {step['id']}</b> {html.escape(step['experiment'] or '-')} {labels} "
            f"· {html.escape(metric)} = {_fmt(step['value'])}{delta}<br>"
            f"{html.escape(step['description'] or '')}<ul>{changes}</ul>{note}</div>"
        )
    return "\n".join(out)


def _chain_figure(go, chain, metric, colours=None):
    colours = colours or run_colours([s["id"] for s in chain])
    fig = go.Figure(
        go.Scatter(
            x=[f"run {s['id']}<br>{s['experiment']}" for s in chain],
            y=[s["value"] for s in chain],
            mode="lines+markers",
            line=dict(color=OTHER),
            marker=dict(size=11, color=[colours[s["id"]] for s in chain]),
            customdata=[s["id"] for s in chain],
            showlegend=False,
            text=[s["description"] for s in chain],
            hovertemplate="%{x}<br>%{y:.4f}<br>%{text}",
        )
    )
    fig.update_yaxes(title=metric)
    return fig


def _curves_figure(go, curves, runs, keys: list[str], colours: dict[int, str] | None = None):
    """One panel per key (the key metric, and the loss when the runs have one), a curve per run,
    in the run's one colour in every panel (the panels share one legend)."""
    from plotly.subplots import make_subplots

    colours = colours or run_colours(curves)
    names = {r["id"]: r.get("experiment") or "-" for r in runs}
    fig = make_subplots(rows=1, cols=len(keys), subplot_titles=tuple(keys))
    for run_id, rows in curves.items():
        for col, key in enumerate(keys, start=1):
            points = [(r["epoch"], r[key]) for r in rows if key in r]
            if points:
                fig.add_trace(
                    go.Scatter(
                        x=[p[0] for p in points],
                        y=[p[1] for p in points],
                        mode="lines+markers",
                        line=dict(color=colours[run_id]),
                        marker=dict(color=colours[run_id]),
                        name=f"run {run_id} {names.get(run_id, '')}",
                        legendgroup=str(run_id),
                        showlegend=col == 1,
                    ),
                    row=1,
                    col=col,
                )
    fig.update_xaxes(title="epoch")
    return fig


def chain_depths(runs: Sequence[Mapping[str, Any]]) -> dict[int, int]:
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


def _graph_figure(go, runs, metric, colours=None):
    """Runs as nodes (x: depth from a root, y: order), parent → child as lines; a run drawn elsewhere
    in its colour, the others grey (their metric in the hover text)."""
    colours = colours or {}
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
    fig = go.Figure(
        [
            go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#bbb", width=1), hoverinfo="skip", showlegend=False),
            go.Scatter(
                x=[depth[r["id"]] for r in runs],
                y=[row_of[r["id"]] for r in runs],
                mode="markers+text",
                text=[str(r["id"]) for r in runs] if len(runs) <= 200 else None,
                textposition="top center",
                marker=dict(
                    size=[13 if r["id"] in colours else 8 for r in runs],
                    color=[colours.get(r["id"], OTHER) for r in runs],
                ),
                customdata=[r["id"] for r in runs],
                hovertext=[
                    f"run {r['id']} {r.get('experiment') or '-'} {r['status']} {metric}={_fmt(v)}"
                    for r, v in zip(runs, values)
                ],
                hoverinfo="text",
                showlegend=False,
            ),
        ]
    )
    fig.update_xaxes(title="steps from the first baseline")
    fig.update_yaxes(visible=False)
    return fig


def _table(runs: Sequence[Mapping[str, Any]], metric: str, loss: str | None) -> str:
    head = (
        "<tr><th>id</th><th>experiment</th><th>status</th><th>%s</th><th>%s</th><th>parent</th>"
        "<th>labels</th><th>overrides</th><th>note</th><th>created</th></tr>"
        % (html.escape(metric), html.escape(loss or ""))
    )
    rows = []
    for r in reversed(runs):
        m = r.get("metrics") or {}
        labels = "".join(f"<span class='label'>{html.escape(l)}</span>" for l in r.get("labels") or [])
        rows.append(
            f"<tr><td>{r['id']}</td><td>{html.escape(r.get('experiment') or '-')}</td>"
            f"<td class='{r['status']}'>{r['status']}</td><td>{_fmt(m.get(metric))}</td>"
            f"<td>{_fmt(m.get(loss)) if loss else ''}</td><td>{_fmt(r.get('parent_id'))}</td><td>{labels}</td>"
            f"<td>{html.escape(' '.join(r.get('overrides') or []))}</td>"
            f"<td>{html.escape((r.get('note') or '')[:120])}</td><td>{r['created_at'][:19]}</td></tr>"
        )
    return f"<div class='scroll'><table>{head}{''.join(rows)}</table></div>"


def read_curves(runs: Sequence[Mapping[str, Any]], ids: list[int]) -> dict[int, list[dict]]:
    by_id = {r["id"]: r for r in runs}
    return {
        i: read_jsonl(Path(by_id[i]["run_dir"]) / "metrics.jsonl")
        for i in ids
        if i in by_id and by_id[i].get("run_dir")
    }
