"""What runs cost, through the real CLI with real (tiny) Lightning training on the digits data: each
run's spend in `runs`, `show`, `diff`, `lineage` (with the cumulative cost to reach each step) and
`mlws cost --by ...`; and the bad inputs that must record nothing."""

from __future__ import annotations

import json

import pytest

from ..support.helpers import clean_env, make_workspace, mlws, mlws_json, plotly_figures

TINY = ["trainer.max_epochs=1", "trainer.limit_train_batches=2", "trainer.limit_val_batches=2", "logger=none"]
RATE = 3600.0  # $1 a second: every run costs a few dollars, enough to tell the numbers apart


@pytest.fixture(scope="module")
def priced(tmp_path_factory):
    """model_01 unpriced; model_01 priced; a failed model_02 try; model_02 (its child) priced."""
    tmp = tmp_path_factory.mktemp("cost")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    for args in (
        ["+experiment=model_01", "--label", "base"],
        ["+experiment=model_01", f"cost.local_hourly={RATE}"],
        ["+experiment=model_02", f"cost.local_hourly={RATE}", "+trainer.no_such_option=1"],  # fails in the worker
        ["+experiment=model_02", f"cost.local_hourly={RATE}", "--label", "base"],
    ):
        # fresh: a run's recorded wall time is in whole seconds, and these tiny runs must last one or more
        # (a new interpreter's imports inside the run make sure of it; a forked CLI can be under a second)
        out = mlws("train", *args, *TINY, cwd=ws, env=env, fresh=True)
        assert out.returncode == (1 if "+trainer.no_such_option=1" in args else 0), out.stderr[-2000:]
    rows = mlws_json("runs", cwd=ws, env=env)
    assert [r["status"] for r in rows] == ["succeeded", "succeeded", "failed", "succeeded"]
    return ws, env, rows


def by_id(rows):
    return {r["id"]: r for r in rows}


def test_each_run_records_its_spend_and_how_it_was_reckoned(priced):
    ws, env, rows = priced
    runs = by_id(rows)
    unpriced = runs[1]["cost"]
    assert unpriced["usd"] is None and unpriced["hours"] > 0 and "set cost.local_hourly" in unpriced["basis"]
    for run_id in [r["id"] for r in rows if r["id"] != 1]:
        c = runs[run_id]["cost"]
        assert c["usd"] == pytest.approx(c["hours"] * RATE, rel=1e-3) and c["usd"] > 0, c
        assert "cost.local_hourly $3600/h" in c["basis"] and c["final"] is True
    shown = mlws_json("show", "2", cwd=ws, env=env)["cost"]
    assert shown == runs[2]["cost"]
    text = mlws("show", "2", cwd=ws, env=env).stdout
    assert f"cost: ${shown['usd']:.2f} (" in text and "local wall time × cost.local_hourly" in text


def test_runs_shows_a_cost_column_only_when_a_run_has_a_price(priced, tmp_path):
    ws, env, rows = priced
    table = mlws("runs", cwd=ws, env=env).stdout
    header = next(line for line in table.splitlines() if line.strip().startswith("id"))
    assert " cost " in header
    assert f"${by_id(rows)[2]['cost']['usd']:.2f}" in table
    other, other_env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    assert mlws("train", "+experiment=model_01", *TINY, cwd=other, env=other_env).returncode == 0
    header = next(
        line for line in mlws("runs", cwd=other, env=other_env).stdout.splitlines() if line.strip().startswith("id")
    )
    assert "cost" not in header


def test_mlws_cost_totals_from_the_registry(priced):
    ws, env, rows = priced
    priced_usd = sum(r["cost"]["usd"] for r in rows if r["cost"]["usd"] is not None)
    total = mlws_json("cost", cwd=ws, env=env)["total"]
    assert total["usd"] == pytest.approx(priced_usd, abs=1e-4) and total["runs"] == len(rows)
    assert total["priced"] == len(rows) - 1
    by_experiment = {g["key"]: g for g in mlws_json("cost", "--by", "experiment", cwd=ws, env=env)["groups"]}
    assert set(by_experiment) == {"model_01", "model_02"}
    assert by_experiment["model_01"]["usd"] == pytest.approx(by_id(rows)[2]["cost"]["usd"], abs=1e-4)
    labels = {g["key"]: g for g in mlws_json("cost", "--by", "label", cwd=ws, env=env)["groups"]}
    assert labels["base"]["runs"] == 2 and labels["(no label)"]["runs"] == len(rows) - 2
    months = mlws_json("cost", "--by", "month", cwd=ws, env=env)["groups"]
    assert [g["key"] for g in months] == [rows[0]["created_at"][:7]]
    assert [g["key"] for g in mlws_json("cost", "--by", "backend", cwd=ws, env=env)["groups"]] == ["local"]
    text = mlws("cost", "--by", "experiment", cwd=ws, env=env).stdout
    assert "model_02" in text and f"${total['usd']:.2f}" in text
    plain = mlws("cost", cwd=ws, env=env).stdout.splitlines()
    assert plain[0].split() == ["cost", "time", "runs", "priced"] and plain[-1].split()[0] == "all", plain


def test_diff_shows_the_difference_in_cost(priced):
    ws, env, rows = priced
    d = mlws_json("diff", "2", str(rows[-1]["id"]), cwd=ws, env=env)["cost"]
    a, b = by_id(rows)[2]["cost"]["usd"], rows[-1]["cost"]["usd"]
    assert d["usd"] == [pytest.approx(a), pytest.approx(b)] and d["delta_usd"] == pytest.approx(b - a, abs=1e-5)
    text = mlws("diff", "2", str(rows[-1]["id"]), cwd=ws, env=env).stdout
    assert f"cost: ${a:.2f} → ${b:.2f}" in text
    hours = mlws("diff", "1", "2", cwd=ws, env=env).stdout  # run 1 has no price: the hours are compared
    assert "cost: " in hours and " s → " in hours


def test_lineage_shows_each_steps_cost_and_the_cumulative_cost_to_reach_it(priced):
    ws, env, rows = priced
    last = rows[-1]
    chain = mlws_json("lineage", str(last["id"]), cwd=ws, env=env)
    assert [s["experiment"] for s in chain][0] == "model_01" and chain[-1]["experiment"] == "model_02"
    # each step: every run of the experiments on the way, up to it (the unpriced and failed tries included)
    for step in chain:
        on_the_way = {s["experiment"] for s in chain if s["id"] <= step["id"]}
        counted = [r for r in rows if r["experiment"] in on_the_way and r["id"] <= step["id"]]
        assert step["cumulative"]["runs"] == len(counted), (step, counted)
    assert chain[-1]["cumulative"]["runs"] == len(rows)
    priced_usd = sum(r["cost"]["usd"] for r in rows if r["cost"]["usd"] is not None)
    assert chain[-1]["cumulative"]["usd"] == pytest.approx(priced_usd, abs=1e-4)
    assert chain[-1]["cost"]["usd"] == pytest.approx(last["cost"]["usd"])
    text = mlws("lineage", str(last["id"]), cwd=ws, env=env).stdout
    assert "to reach" in text and f"total to reach run {last['id']}: ${priced_usd:.2f}" in text


def test_lineage_best_shows_the_total_to_reach_the_best_run(priced):
    ws, env, rows = priced
    chain = mlws_json("lineage", "--best", "val/acc", cwd=ws, env=env)
    best = chain[-1]
    text = mlws("lineage", "--best", "val/acc", cwd=ws, env=env).stdout
    total = best["cumulative"]
    assert f"total to reach run {best['id']}: ${total['usd']:.2f}" in text
    assert total["runs"] >= len(chain)


@pytest.mark.parametrize(
    "args,message",
    [
        (["cost", "--by", "colour"], "invalid choice: 'colour'"),
        (["train", "+experiment=model_01", "cost.local_hourly=-1"], "cost.local_hourly: must be >= 0"),
        (["train", "+experiment=model_01", "cost.local_hourly=cheap"], "cost.local_hourly: expected float"),
        (
            ["train", "+experiment=model_01", "compute=ray", "compute.hourly_rate=-2"],
            "compute.hourly_rate: must be >= 0",
        ),
    ],
)
def test_bad_cost_input_is_one_clear_line_and_records_nothing(args, message, tmp_path):
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    out = mlws(*args, *TINY, cwd=ws, env=env) if args[0] == "train" else mlws(*args, cwd=ws, env=env)
    assert out.returncode == 2, out
    assert message in out.stderr and "Traceback" not in out.stderr
    assert json.loads(mlws("runs", "--json", cwd=ws, env=env).stdout) == []


def test_the_report_draws_cost_against_the_key_metric_with_the_cheapest_frontier(priced, tmp_path):
    from mlws.history.cost_chart import frontier

    ws, env, rows = priced
    out = mlws("report", "-o", str(tmp_path / "report.html"), cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "report.html").read_text()
    assert "cost against val/acc" in page
    runs, edge = plotly_figures(page)[-1]
    priced_runs = {r["id"]: r for r in rows if (r["cost"].get("usd") or 0) > 0 and "val/acc" in (r["metrics"] or {})}
    assert sorted(runs["x"]) == sorted(r["cost"]["usd"] for r in priced_runs.values())
    assert sorted(runs["y"]) == sorted(r["metrics"]["val/acc"] for r in priced_runs.values())
    points = [(i, r["cost"]["usd"], r["metrics"]["val/acc"]) for i, r in priced_runs.items()]
    assert list(zip(edge["x"], edge["y"])) == [(p[1], p[2]) for p in frontier(points, "max")]
