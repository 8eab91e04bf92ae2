"""The report's charts agree: one colour per run in the legend, every curve panel, the chain and the
graph, read back from the plotly figure data in the generated HTML (and, once, from the figures as
Chromium drew them); with thousands of runs only the chain and the top-N curves are drawn."""

import time

import pytest

from mlws.history.report import GRAPH_LIMIT, OTHER, TOP_N, build_report, curve_ids

from ..support.helpers import launch_chromium
from ..support.helpers import plotly_figures as figures


def _run(i: int, parent: int | None, acc: float) -> dict:
    return {
        "id": i,
        "experiment": f"model_{i:02d}",
        "status": "succeeded",
        "parent_id": parent,
        "metrics": {"val/acc": acc, "val/loss": 1 - acc},
        "labels": [],
        "overrides": [],
        "note": "",
        "created_at": f"2026-12-07T10:{i % 60:02d}:00",
    }


def _step(run: dict, before: float | None) -> dict:
    value = run["metrics"]["val/acc"]
    return {
        "id": run["id"],
        "experiment": run["experiment"],
        "value": value,
        "labels": [],
        "note": "",
        "delta": None if before is None else value - before,
        "description": f"step {run['id']}",
        "summary": [],
    }


def _story(n_runs: int, chain_ids: list[int]):
    """Runs 1..n: a chain along chain_ids, every other run a child of run 1; accuracies all differ."""
    parents = {c: p for p, c in zip([None] + chain_ids, chain_ids)}
    runs = [
        _run(i, parents.get(i, 1 if i != 1 else None), 0.5 + (i % 97) / 1000 + i / 10**6) for i in range(1, n_runs + 1)
    ]
    by_id = {r["id"]: r for r in runs}
    chain, before = [], None
    for i in chain_ids:
        chain.append(_step(by_id[i], before))
        before = by_id[i]["metrics"]["val/acc"]
    return runs, chain


def _curves(ids) -> dict[int, list[dict]]:
    return {
        i: [{"epoch": e, "val/acc": 0.1 * e + i / 100, "val/loss": 1 / (e + 1) + i / 100} for e in range(3)]
        for i in ids
    }


def _colours(page: str):
    chain_fig, curves_fig, graph_fig = figures(page)
    chain = chain_fig[0]
    chain_colour = dict(zip(chain["customdata"], chain["marker"]["color"]))
    curve_colour: dict[int, set] = {}
    for trace in curves_fig:
        run = int(trace["legendgroup"])
        curve_colour.setdefault(run, set()).update({trace["line"]["color"], trace["marker"]["color"]})
    nodes = graph_fig[1]
    graph_colour = dict(zip(nodes["customdata"], nodes["marker"]["color"]))
    return chain_colour, curve_colour, graph_colour, curves_fig


def test_every_chart_draws_a_run_in_the_same_colour():
    runs, chain = _story(12, [1, 3, 4, 7, 9])
    ids = curve_ids(runs, chain, "val/acc", "max")
    page = build_report(runs, chain, _curves(ids), "val/acc", "max", "val/loss")
    chain_colour, curve_colour, graph_colour, curves_fig = _colours(page)

    assert all(len(c) == 1 for c in curve_colour.values())  # both panels, legend swatch: one colour
    curve_colour = {run: c.pop() for run, c in curve_colour.items()}
    assert set(curve_colour) == set(ids)
    assert len(set(curve_colour.values())) == len(curve_colour)  # no two runs share a colour
    for run, colour in chain_colour.items():
        assert curve_colour[run] == colour == graph_colour[run]
    for run, colour in curve_colour.items():
        assert graph_colour[run] == colour
    assert {r for r, c in graph_colour.items() if c == OTHER} == {r["id"] for r in runs} - set(ids)
    # one legend entry per run (the first panel), the other panel's curve joins it
    assert sorted(int(t["legendgroup"]) for t in curves_fig if t.get("showlegend", True)) == sorted(ids)
    for step in chain:
        assert f"<div class='step' style='border-left-color:{chain_colour[step['id']]}'><b>run {step['id']}</b>" in page


def test_curves_follow_the_chain_then_the_best_runs():
    runs, chain = _story(30, [1, 2, 5])
    ids = curve_ids(runs, chain, "val/acc", "max")
    best = sorted((r for r in runs if r["id"] not in (1, 2, 5)), key=lambda r: -r["metrics"]["val/acc"])[:TOP_N]
    assert ids == [1, 2, 5] + [r["id"] for r in best]
    assert curve_ids(runs, chain, "val/loss", "min")[3:] == [r["id"] for r in best]  # loss = 1 - acc here


def test_thousands_of_runs_draw_only_the_chain_and_the_top_curves():
    chain_ids = [1, 40, 700, 2500, 2999]
    runs, chain = _story(3000, chain_ids)
    ids = curve_ids(runs, chain, "val/acc", "max")
    started = time.perf_counter()
    page = build_report(runs, chain, _curves(ids), "val/acc", "max", "val/loss")
    took = time.perf_counter() - started
    chain_colour, curve_colour, graph_colour, _ = _colours(page)
    assert len(ids) == len(chain_ids) + TOP_N and set(curve_colour) == set(ids)
    assert set(graph_colour) == set(ids) | {1}  # the coloured runs and their ancestors
    assert len(graph_colour) < GRAPH_LIMIT and OTHER not in {graph_colour[i] for i in ids}
    assert f"({len(graph_colour)} of 3000 runs" in page
    assert page.count("<tr><td>") == 3000  # the table keeps every run
    assert took < 20, took


@pytest.mark.chromium
def test_chromium_draws_the_legend_in_the_curves_colours(tmp_path):
    """The legend swatch next to each name is the colour of that run's curves, as drawn."""
    runs, chain = _story(8, [1, 2, 4])
    ids = curve_ids(runs, chain, "val/acc", "max")
    path = tmp_path / "report.html"
    path.write_text(build_report(runs, chain, _curves(ids), "val/acc", "max", "val/loss"))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(path.as_uri())
            page.wait_for_function("document.querySelectorAll('.plotly .main-svg').length >= 3", timeout=30000)
            drawn = page.evaluate("""() => {
                const plots = [...document.querySelectorAll('.js-plotly-plot')];
                const curves = plots[1];
                const legend = [...curves.querySelectorAll('.legend .traces')].map(t => [
                    t.querySelector('.legendtext').textContent,
                    getComputedStyle(t.querySelector('.legendlines path')).stroke]);
                const lines = curves._fullData.map(t => [t.name, t.line.color, t.xaxis]);
                const chain = plots[0]._fullData[0];
                const graph = plots[2]._fullData[1];
                return {legend, lines, chain: [chain.customdata, chain.marker.color],
                        graph: [graph.customdata, graph.marker.color]};
            }""")
        finally:
            browser.close()
    hex_of = lambda rgb: "#%02x%02x%02x" % tuple(int(v) for v in rgb[4:-1].split(","))
    legend = {name: hex_of(stroke) for name, stroke in drawn["legend"]}
    assert len(legend) == len(ids)
    for name, colour, _axis in drawn["lines"]:  # both panels' curves: the legend's colour
        assert legend[name] == colour
    run_colour = {int(name.split()[1]): colour for name, colour in legend.items()}
    assert dict(zip(*drawn["chain"])) == {i: run_colour[i] for i in (1, 2, 4)}
    graph = dict(zip(*drawn["graph"]))
    assert all(graph[i] == run_colour[i] for i in ids)
