"""A user's own LightningModule and LightningDataModule, from a package outside mlws, via _target_."""

import textwrap

import pytest

from ..support.helpers import forget_user_package, mlws, mlws_json
from ..support.user_projects import USER_CODE

pytestmark = [pytest.mark.serve, pytest.mark.chromium]


def test_user_package_trains_like_the_examples(ws, env, tmp_path):
    pkg = tmp_path / "userlib" / "acme"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "line.py").write_text(USER_CODE)
    (ws / "conf" / "model" / "regressor.yaml").write_text("_target_: acme.line.Regressor\nlr: 0.1\n")
    (ws / "conf" / "data" / "line.yaml").write_text(
        "_target_: acme.line.LineData\nn: 256\nnoise: 0.1\nbatch_size: 32\n"
    )
    (ws / "experiments" / "line_01.yaml").write_text(
        textwrap.dedent("""\
        # @package _global_
        defaults:
          - override /model: regressor
          - override /data: line
          - _self_
        description: "a user's own regression"
        monitor: {metric: val/mse, mode: min, loss: null}
        trainer: {max_epochs: 8}
        serve:
          input: {_target_: mlws.serving.inputs.TensorInput, shape: [1]}
          output: {_target_: mlws.serving.outputs.Regression}
        """)
    )
    env = {**env, "PYTHONPATH": str(tmp_path / "userlib")}
    # the user's keys are validated too
    bad = mlws("train", "+experiment=line_01", "model.lrr=1", cwd=ws, env=env)
    assert bad.returncode == 2 and "did you mean 'model.lr'" in bad.stderr

    out = mlws("train", "+experiment=line_01", "logger=none", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "succeeded" and run["config"]["model"]["_target_"] == "acme.line.Regressor"
    assert run["metrics"]["val/mse"] < 0.1  # it learned the line
    assert run["artifacts"]["checkpoints"]["best"].endswith(".ckpt")
    assert "val/mse=" in out.stdout and "val/acc" not in out.stdout  # the closing summary: its own metric


def test_the_runs_own_key_metric_everywhere(ws, env, tmp_path):
    """A regression run (val/mse, mode min, no loss): every listing, summary, view and the report
    use its metric, none the digits example's val/acc or val/loss."""
    test_user_package_trains_like_the_examples(ws, env, tmp_path)
    env = {**env, "PYTHONPATH": str(tmp_path / "userlib")}
    assert (
        mlws(
            "train", "+experiment=line_01", "logger=none", "model.lr=0.01", "trainer.max_epochs=2", cwd=ws, env=env
        ).returncode
        == 0
    )
    runs = {r["id"]: r for r in mlws_json("runs", cwd=ws, env=env)}
    assert runs[1]["monitor"] == {"metric": "val/mse", "mode": "min", "loss": None}
    better = min(runs, key=lambda i: runs[i]["metrics"]["val/mse"])
    listing = mlws("runs", cwd=ws, env=env).stdout
    # the runs' shared key metric is a column of its own, named after it, with each run's value
    assert "val/mse" in listing and "val/acc" not in listing and "val/loss" not in listing
    assert all(f"{runs[i]['metrics']['val/mse']:.4f}" in listing for i in runs)
    tree = mlws("lineage", "--all", cwd=ws, env=env).stdout
    assert "val/mse=" in tree and "val/acc" not in tree
    assert mlws_json("lineage", "--best", "val/mse", cwd=ws, env=env)[-1]["id"] == better  # min, as declared
    watch = mlws_json("watch", "2", "--once", cwd=ws, env=env)
    assert watch["trend_metric"] == "val/mse" and len(watch["loss_trend"]) == 2
    out = mlws("report", "-o", str(tmp_path / "r.html"), cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "r.html").read_text()
    assert "key metric <code>val/mse</code> (min is better)" in page and "<th>val/mse</th>" in page
    assert "val/acc" not in page and "val/loss" not in page


def test_a_target_that_cannot_be_built_names_the_real_cause(ws, env):
    """Hydra reports "Error locating target"; the message names what went wrong inside the user's code."""
    (ws / "acme").mkdir()
    (ws / "acme" / "__init__.py").write_text("")
    (ws / "acme" / "data.py").write_text("import a_package_that_is_not_installed\nclass D: pass\n")
    (ws / "acme" / "bad.py").write_text("def broken(:\n    pass\n")
    cases = [
        ("data._target_=acme.data.D", "ModuleNotFoundError: No module named 'a_package_that_is_not_installed'"),
        ("data._target_=acme.bad.X", f"SyntaxError: invalid syntax ({ws / 'acme' / 'bad.py'}, line 1)"),
        ("+data.nope=1", "TypeError: DigitsDataModule.__init__() got an unexpected keyword argument 'nope'"),
    ]
    for override, cause in cases:
        out = mlws("train", "+experiment=model_01", override, "logger=none", cwd=ws, env=env)
        assert out.returncode == 1 and cause in out.stderr, out.stderr[-2000:]
        assert "traceback: " in out.stderr and "Traceback (most recent" not in out.stderr


def test_a_regression_model_is_served_as_values(ws, env, tmp_path, monkeypatch):
    """serve.input/serve.output of a regression: the values come back (not an argmax), over HTTP,
    from mlws.load_run, and on the demo page (a JSON box, not a drawing canvas)."""
    test_user_package_trains_like_the_examples(ws, env, tmp_path)
    env = {**env, "PYTHONPATH": str(tmp_path / "userlib")}
    monkeypatch.syspath_prepend(str(tmp_path / "userlib"))
    forget_user_package(monkeypatch)
    from mlws import api

    local = api.load_run(1, workspace=ws).predict([[2.0], [0.0]])["predictions"]
    assert abs(local[0] - 5.0) < 0.3 and abs(local[1] + 1.0) < 0.3  # y = 3x - 1
    import json

    from ..support.helpers import free_port, launch_chromium
    from ..support.serving_client import get, post

    port = free_port()
    assert mlws("serve", "1", "--port", str(port), "--detach", cwd=ws, env=env, timeout=400).returncode == 0
    try:
        status, served = post(port, json.dumps({"inputs": [[2.0], [0.0]]}).encode())
        assert status == 200 and served["predictions"] == local and "probabilities" not in served
        assert json.loads(get(port, "/info")[1])["output"] == "regression"
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                assert not page.is_visible("#grid") and page.is_visible("#samples")
                page.fill("#samples", "[[2.0]]")
                page.click("#predict")
                page.wait_for_function("document.getElementById('prediction').textContent !== '–'", timeout=30000)
                shown = float(page.inner_text("#prediction"))
            finally:
                browser.close()
        assert abs(shown - local[0]) < 1e-4
    finally:
        mlws("serve", "stop", "1", cwd=ws, env=env, timeout=120)
