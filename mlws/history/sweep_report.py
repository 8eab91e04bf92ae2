"""A sweep's page: its trials in parallel coordinates (each varied key an axis, the objective last),
the best trials' training curves, and the ranked table. Self-contained, like the runs report."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .report import CSS, _curves_figure, _fmt


def build_sweep_report(
    view: dict, runs: Sequence[Mapping[str, Any]], curves: dict[int, list[dict]], loss: str | None
) -> str:
    """view: ops.sweeps.view(); runs: the trials' run summaries; curves: {run id: metrics.jsonl rows}."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    sweep = view["sweep"]
    metric = sweep["metric"] or "value"
    title = f"mlws sweep {sweep['id']} · {sweep['experiment'] or '(no experiment)'}"
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p><code>{html.escape(sweep['command'])}</code></p>",
        f"<p>{sweep['sweeper']} sweep · {sweep['status']} · {len(view['trials'])} trials · objective "
        f"<code>{html.escape(metric)}</code> ({sweep['mode']} is better) · generated "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>",
    ]
    figures = [("trials in parallel coordinates", parallel_coordinates(go, view, metric))]
    if curves:
        figures.append(
            ("training curves of the best trials", _curves_figure(go, curves, runs, [k for k in (metric, loss) if k]))
        )
    for heading, fig in figures:
        fig.update_layout(height=420, margin=dict(l=60, r=40, t=50, b=30), template="plotly_white")
        parts.append(
            f"<h2>{heading}</h2>" + fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
        )
    parts.append("<h2>trials, best first</h2>" + _table(view, metric))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style><script>{get_plotlyjs()}</script></head><body>{''.join(parts)}</body></html>"
    )


def parallel_coordinates(go, view: dict, metric: str):
    """One line per trial with a value; numbers on their own scale, anything else as categories."""
    trials = [t for t in view["trials"] if t["value"] is not None]
    dims = [_dimension(k, [t["params"][k] for t in trials]) for k in view["varied"]]
    values = [t["value"] for t in trials]
    dims.append(dict(label=metric, values=values))
    line = dict(
        color=values,
        colorscale="Viridis",
        showscale=True,
        colorbar=dict(title=metric),
        reversescale=view["sweep"]["mode"] == "min",
    )
    return go.Figure(go.Parcoords(line=line, dimensions=dims))


def _dimension(key: str, column: list) -> dict:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in column):
        return dict(label=key, values=column)
    names = sorted({repr(v) if not isinstance(v, str) else v for v in column})
    index = {n: i for i, n in enumerate(names)}
    return dict(
        label=key,
        values=[index[repr(v) if not isinstance(v, str) else v] for v in column],
        tickvals=list(range(len(names))),
        ticktext=names,
    )


def _table(view: dict, metric: str) -> str:
    keys = view["varied"]
    head = "<tr><th>rank</th><th>trial</th><th>run</th><th>status</th><th>%s</th>%s</tr>" % (
        html.escape(metric),
        "".join(f"<th>{html.escape(k)}</th>" for k in keys),
    )
    rows = [
        f"<tr><td>{_fmt(t['rank'])}</td><td>{t['trial']}</td><td>{t['run']}</td>"
        f"<td class='{t['status']}'>{t['status']}</td><td>{_fmt(t['value'])}</td>"
        + "".join(f"<td>{_fmt(t['params'][k])}</td>" for k in keys)
        + "</tr>"
        for t in view["trials"]
    ]
    return f"<div class='scroll'><table>{head}{''.join(rows)}</table></div>"
