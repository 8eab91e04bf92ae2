"""Replicate groups where metrics are compared, through the real CLI: `runs`, `show`, `diff` (text,
markdown, --json), `lineage` and `lineage --best` show mean ± sd with a 95% interval and say in words
whether a difference is bigger than seed noise. The runs are recorded through mlws's real launch
path with a test backend that trains nothing (named so): its metric is a known function of the
config (model_12's wider net is better by 0.1) plus noise drawn from the seed."""

from __future__ import annotations

from ..support.helpers import mlws, mlws_json
from ..support.seeded import use_seeded_backend


def test_groups_are_compared_everywhere_a_metric_is(ws, env):
    rec = use_seeded_backend(ws)
    g11 = mlws_json("train", "+experiment=model_11", *rec, "--seeds", "4", cwd=ws, env=env)["group"]
    g12 = mlws_json("train", "+experiment=model_12", *rec, "--seeds", "4", cwd=ws, env=env)["group"]
    same = mlws_json("train", "+experiment=model_12", *rec, "seed=100", "--seeds", "4", cwd=ws, env=env)["group"]
    assert g11["n"] == g12["n"] == 4 and abs(g12["mean"] - g11["mean"] - 0.1) < 0.03

    runs = " ".join(mlws("runs", cwd=ws, env=env).stdout.split())
    assert (
        f"replicate group {g11['group']} · runs {', '.join(map(str, g11['runs']))} · val/acc (max is better): "
        f"{g11['text']}" in runs
    )

    shown = mlws("show", str(g12["runs"][1]), cwd=ws, env=env).stdout
    assert f"replicates: {g12['text']} (group {g12['group']}: runs" in shown
    assert mlws_json("show", str(g12["runs"][1]), cwd=ws, env=env)["replicate_group"]["mean"] == g12["mean"]

    d = mlws_json("diff", str(g11["runs"][0]), str(g12["runs"][0]), cwd=ws, env=env)["replicates"]
    assert d["comparison"]["distinguishable"] is True and d["comparison"]["better"] is True
    assert d["comparison"]["low"] > 0.05 and d["a"]["group"] == g11["group"]
    text = mlws("diff", str(g11["runs"][0]), str(g12["runs"][0]), cwd=ws, env=env).stdout
    assert "difference: +0.1" in text and ", better: distinguishable from seed noise (Welch's t-test, p=" in text
    noise = mlws("diff", str(g12["runs"][0]), str(same["runs"][0]), cwd=ws, env=env).stdout
    assert ": not distinguishable from seed noise (Welch's t-test, p=" in noise, noise
    md = mlws("diff", str(g11["runs"][0]), str(g12["runs"][0]), "--format", "markdown", cwd=ws, env=env).stdout
    assert f"| group {g11['group']} | group {g12['group']} | difference |" in md

    chain = mlws_json("lineage", str(g12["runs"][2]), cwd=ws, env=env)
    step = chain[-1]["replicates"]
    assert step["group"]["group"] == g12["group"] and step["vs_previous"]["distinguishable"] is True
    assert not any(k == "seed" for k in chain[-1]["changes"]["changed"])
    lineage = " ".join(mlws("lineage", str(g12["runs"][2]), cwd=ws, env=env).stdout.split())
    assert "vs the step before: +0.1" in lineage and "distinguishable from seed noise" in lineage
    assert "seed:" not in lineage

    best = " ".join(mlws("lineage", "--best", "val/acc", cwd=ws, env=env).stdout.split())
    assert "ranked by mean val/acc (max is better):" in best
    assert "are not distinguishable" in best  # the two model_12 groups differ only in their seeds
    report = mlws("report", "-o", str(ws / "report.html"), cwd=ws, env=env)
    assert report.returncode == 0, report.stderr
    page = (ws / "report.html").read_text()
    assert (
        f"<p class='replicates'>replicate group {same['group']} (runs" in page
        or f"<p class='replicates'>replicate group {g12['group']} (runs" in page
    )
    ranking = mlws_json("lineage", "--best", "val/acc", cwd=ws, env=env)[-1]["best_groups"]
    assert {s["group"] for s in ranking["ranking"][:2]} == {g12["group"], same["group"]}
    assert ranking["ranking"][2]["group"] == g11["group"] and ranking["top_two"]["distinguishable"] is False


def test_runs_outside_groups_look_as_before(ws, env):
    rec = use_seeded_backend(ws)
    a = mlws_json("train", "+experiment=model_11", *rec, cwd=ws, env=env)
    b = mlws_json("train", "+experiment=model_12", *rec, cwd=ws, env=env)
    assert mlws_json("diff", str(a["id"]), str(b["id"]), cwd=ws, env=env)["replicates"] is None
    assert "replicates" not in mlws("diff", str(a["id"]), str(b["id"]), cwd=ws, env=env).stdout
    assert "replicate" not in mlws("runs", cwd=ws, env=env).stdout
    assert "replicates" not in mlws_json("lineage", str(b["id"]), cwd=ws, env=env)[-1]
    assert "ranked by mean" not in mlws("lineage", "--best", "val/acc", cwd=ws, env=env).stdout
    assert mlws_json("show", str(b["id"]), cwd=ws, env=env)["replicate_group"] is None
