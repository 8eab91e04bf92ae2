"""The pull-request comment shows each step's recorded results (`mlws diff --git REF --results`):
each side as mean ± sd [95% CI] over its seeds and the difference with its interval, in words
whether it is distinguishable from seed noise. Computed by the comment job from the raw values
(mlws.stats), so a forged artifact cannot write text and a branch's strings stay inert."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from mlws.history.groups import comparison, comparison_words
from mlws.review.comment import BadArtifact, validated
from mlws.review.inert import md_span
from mlws.review.markdown import render
from mlws.stats import summarize, summary_text

from ..support.helpers import REPO, mlws, mlws_json
from ..support.seeded import use_seeded_backend

A = [0.70, 0.71, 0.69, 0.705]
B = [0.80, 0.81, 0.795, 0.805]


def _result(replicates) -> dict:
    entry = {
        "experiment": "model_13",
        "status": "added",
        "renamed_from": None,
        "builds_on": "model_12",
        "error": None,
        "changed": {"model.net.channels": [[32, 64], [8, 16]]},
        "added": {},
        "removed": {},
        "replicates": replicates,
    }
    return {
        "ref": "main",
        "commit": "a" * 40,
        "compared_with": "working tree",
        "uncommitted": [],
        "files": [],
        "notes": [],
        "experiments": [entry],
        "unchanged": [],
        "total": 3,
    }


def _reps(before=A, after=B, metric="val/acc", mode="max") -> dict:
    return {
        "metric": metric,
        "mode": mode,
        "before": {"label": "model_12", "runs": list(range(1, len(before) + 1)), "values": list(before)},
        "after": {"label": "this branch", "runs": list(range(10, 10 + len(after))), "values": list(after)},
    }


def test_comment_shows_each_side_and_the_difference_with_the_stats_functions():
    md = render(validated(_result(_reps())))
    side = lambda xs: {"values": xs, "metric": "val/acc", "mode": "max"}
    assert f"| {summary_text(summarize(A))} (runs 1, 2, 3, 4) | {summary_text(summarize(B))} (runs 10," in md
    words = comparison_words(comparison(side(A), side(B)))
    assert f"| {words} |" in md and ", better: distinguishable from seed noise (Welch's t-test" in words
    assert "**results** in `val/acc` (max is better; mean ± sd [95% CI] over seeds)" in md

    noise = render(validated(_result(_reps(after=[0.70, 0.712, 0.695, 0.701]))))
    assert ": not distinguishable from seed noise" in noise
    lower_is_better = render(validated(_result(_reps(mode="min"))))
    assert ", worse: distinguishable" in lower_is_better


def test_a_diff_without_results_renders_as_before():
    plain = _result(None)
    del plain["experiments"][0]["replicates"]
    md = render(validated(plain))
    assert "**results**" not in md and render(validated(_result(None))) == md


def test_hostile_results_are_refused_or_made_inert():
    strange = _reps(metric="x` | <img src=x onerror=alert(1)> [a](http://e.vil)")
    strange["before"]["label"] = "</details>|`"
    md = render(validated(_result(strange)))
    # the branch's strings only ever as inert code spans (md_span: no raw `|`, backtick or `<`)
    assert f"in {md_span(strange['metric'])} (max" in md and f"| {md_span('</details>|`')} |" in md
    assert "</details>" not in md and "<img" not in md.replace(md_span(strange["metric"]), "")
    for bad in (
        lambda r: r["after"].update(values=["0.9"], runs=[1]),  # text where a number goes
        lambda r: r["after"].update(values=[float("nan")], runs=[1]),
        lambda r: r["after"].update(values=[1.0, 2.0], runs=[1]),  # a value without its run
        lambda r: r.update(mode="**best**"),
        lambda r: r.update(verdict="distinguishable"),  # no text from the artifact is ever rendered
        lambda r: r["before"].update(values=[0.5] * 1001, runs=list(range(1001))),
    ):
        reps = copy.deepcopy(_reps())
        bad(reps)
        with pytest.raises(BadArtifact):
            validated(json.loads(json.dumps(_result(reps))))


def test_branch_step_with_replicate_groups_in_the_registry(ws, env):
    """A branch adds model_13 (model_12 with a narrow net): `mlws diff --git HEAD --results` finds
    both experiments' replicate groups by effective config, and the comment job's render of the
    JSON says the step is worse beyond seed noise."""
    rec = use_seeded_backend(ws)
    g12 = mlws_json("train", "+experiment=model_12", *rec, "--seeds", "3", cwd=ws, env=env)["group"]
    (ws / "experiments" / "model_13.yaml").write_text(
        "# @package _global_\ndefaults:\n  - model_12\n  - _self_\nmodel:\n  net:\n    channels: [8, 16]\n"
    )
    g13 = mlws_json("train", "+experiment=model_13", *rec, "--seeds", "3", cwd=ws, env=env)["group"]

    out = mlws("diff", "--git", "HEAD", "--results", "--json", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    entry = next(e for e in json.loads(out.stdout)["experiments"] if e["experiment"] == "model_13")
    rep = entry["replicates"]
    assert rep["before"]["runs"] == g12["runs"] and rep["after"]["runs"] == g13["runs"]
    assert rep["before"]["values"] == g12["values"] and rep["metric"] == "val/acc"

    (ws / "diff.json").write_text(out.stdout)
    comment = subprocess.run(
        [sys.executable, "-P", "-m", "mlws.review.comment", str(ws / "diff.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert comment.returncode == 0, comment.stderr
    assert f"| {g12['text']} (runs {', '.join(map(str, g12['runs']))}) |" in comment.stdout
    assert ", worse: distinguishable from seed noise" in comment.stdout

    text = mlws("diff", "--git", "HEAD", "--results", cwd=ws, env=env).stdout
    assert f"    model_12: {g12['text']} (runs" in text and "    difference: -0.1" in text, text
    assert ", worse: distinguishable from seed noise" in text
    assert mlws("diff", "--git", "HEAD", "--json", cwd=ws, env=env).stdout.count("replicates") == 0
    refused = mlws("diff", "1", "2", "--results", cwd=ws, env=env)
    assert refused.returncode == 2 and "--results goes with --git" in refused.stderr
