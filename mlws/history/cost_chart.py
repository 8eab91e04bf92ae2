"""The report's cost chart: each priced run's spend against its key metric, and the frontier of the
cheapest runs for each level of the metric (a run is on it when no cheaper run did as well)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any


def frontier(points: list[tuple[int, float, float]], mode: str) -> list[tuple[int, float, float]]:
    """(run id, usd, metric) points → those no cheaper-or-equal run beats or matches, cheapest first."""
    better = (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)
    kept: list[tuple[int, float, float]] = []
    for point in sorted(points, key=lambda p: (p[1], -p[2] if mode == "max" else p[2], p[0])):
        if not kept or better(point[2], kept[-1][2]):
            kept.append(point)
    return kept


def priced_points(
    runs: Sequence[Mapping[str, Any]], costs: dict[int, dict], metric: str
) -> list[tuple[int, float, float]]:
    """Runs with a price (usd > 0) and a numeric key metric."""
    out = []
    for run in runs:
        usd = (costs.get(run["id"]) or {}).get("usd")
        value = (run.get("metrics") or {}).get(metric)
        if isinstance(usd, (int, float)) and usd > 0 and isinstance(value, (int, float)):
            out.append((run["id"], float(usd), float(value)))
    return out


def cost_figure(
    go,
    runs: Sequence[Mapping[str, Any]],
    costs: dict[int, dict],
    metric: str,
    mode: str,
    colours: dict[int, str] | None = None,
    other: str = "#c4c4c4",
):
    """None when no run has a price."""
    points = priced_points(runs, costs, metric)
    if not points:
        return None
    experiment = {r["id"]: str(r.get("experiment") or "-") for r in runs}
    edge = frontier(points, mode)
    colours = colours or {}
    fig = go.Figure(
        [
            go.Scatter(
                x=[p[1] for p in points],
                y=[p[2] for p in points],
                mode="markers",
                name="runs",
                marker=dict(size=9, color=[colours.get(p[0], other) for p in points]),
                text=[f"run {p[0]} · {html.escape(experiment[p[0]])}" for p in points],
                hovertemplate="%{text}<br>$%{x:.2f} · " + html.escape(metric) + " %{y:.4f}<extra></extra>",
            ),
            go.Scatter(
                x=[p[1] for p in edge],
                y=[p[2] for p in edge],
                mode="lines",
                name="cheapest for its level",
                line=dict(shape="hv", color="#444", dash="dot"),
                hoverinfo="skip",
            ),
        ]
    )
    fig.update_xaxes(title_text="spend ($)")
    fig.update_yaxes(title_text=metric)
    return fig
