"""Lineage end to end through the CLI: labels, notes, search, diff, lineage, rerun, report."""

import subprocess
import sys

import pytest

from ..support.helpers import clean_env, launch_chromium, make_workspace, mlws, mlws_json, use_record_only_backend

SHORT = ["trainer.max_epochs=1", "logger=none"]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Four short runs: model_01, model_02, model_03, and model_03 with a different lr."""
    tmp = tmp_path_factory.mktemp("lineage")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    for args in (
        ["+experiment=model_01"],
        ["+experiment=model_02"],
        ["+experiment=model_03", "--label", "adam"],
        ["+experiment=model_03", "model.lr=0.02", "--note", "Trying a bigger step with Adam."],
    ):
        out = mlws("train", *args, *SHORT, cwd=ws, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
    return ws, env


def test_parents_follow_the_experiment_chain_then_closest_config(history):
    ws, env = history
    chain = mlws_json("lineage", "4", cwd=ws, env=env)
    assert [s["id"] for s in chain] == [1, 2, 3, 4]
    assert [s["parent"] for s in chain] == [None, 1, 2, 3]
    assert chain[3]["changes"] == {"changed": {"model.lr": [0.01, 0.02]}, "added": {}, "removed": {}}
    assert chain[1]["changes"]["changed"]["data.normalize"] == [False, True]
    assert all(set(s) >= {"id", "experiment", "parent", "changes", "metrics"} for s in chain)
    assert chain[2]["delta"] == pytest.approx(chain[2]["metrics"]["val/acc"] - chain[1]["metrics"]["val/acc"])
    text = mlws("lineage", "4", cwd=ws, env=env).stdout
    assert "model.lr: 0.01 → 0.02" in text and "note: Trying a bigger step" in text


def test_lineage_best_and_tree(history):
    ws, env = history
    runs = mlws_json("runs", cwd=ws, env=env)
    best = max(runs, key=lambda r: r["metrics"]["val/acc"])
    chain = mlws_json("lineage", "--best", "val/acc", cwd=ws, env=env)
    assert chain[-1]["id"] == best["id"] and chain[0]["id"] == 1
    lowest_loss = min(runs, key=lambda r: r["metrics"]["val/loss"])
    assert mlws_json("lineage", "--best", "val/loss", cwd=ws, env=env)[-1]["id"] == lowest_loss["id"]
    tree = mlws_json("lineage", "--all", cwd=ws, env=env)
    assert {(n["id"], n["parent"]) for n in tree} == {(1, None), (2, 1), (3, 2), (4, 3)}
    assert "run 4 model_03" in mlws("lineage", "--all", cwd=ws, env=env).stdout


def test_diff_contract_and_formats(history):
    ws, env = history
    d = mlws_json("diff", "2", "4", cwd=ws, env=env)
    assert d["config"]["changed"]["model.lr"] == [0.05, 0.02]
    assert d["config"]["changed"]["model.optimizer._target_"] == ["torch.optim.SGD", "torch.optim.Adam"]
    runs = {r["id"]: r for r in mlws_json("runs", cwd=ws, env=env)}
    assert d["metrics"]["val/acc"] == [runs[2]["metrics"]["val/acc"], runs[4]["metrics"]["val/acc"]]
    assert d["code"]["same_commit"] is True and d["code"]["commit"][0] == d["code"]["commit"][1]
    md = mlws("diff", "2", "4", "--format", "markdown", cwd=ws, env=env).stdout
    assert md.startswith("### mlws diff: run 2 (model_02) → run 4 (model_03)")
    assert "| `model.lr` | 0.05 | 0.02 |" in md and "| `val/acc` |" in md
    text = mlws("diff", "3", "4", cwd=ws, env=env).stdout
    assert "model.lr: 0.01 → 0.02" in text and "same commit" in text


def test_search_filters_and_sort(history):
    ws, env = history
    ids = lambda *a: [r["id"] for r in mlws_json("runs", *a, cwd=ws, env=env)]
    assert ids("--label", "adam") == [3]
    assert ids("--experiment", "model_03") == [3, 4]
    assert ids("--status", "succeeded") == [1, 2, 3, 4] and ids("--status", "failed") == []
    assert ids("--search", "bigger step") == [4]  # the note
    assert ids("--search", "torch.optim.Adam") == [3, 4]  # config values
    assert ids("--search", "model_01") == [1]  # experiment names
    runs = mlws_json("runs", "--sort", "val/acc", cwd=ws, env=env)
    accs = [r["metrics"]["val/acc"] for r in runs]
    assert accs == sorted(accs, reverse=True)
    assert ids("--sort", "val/acc", "--limit", "1") == [runs[0]["id"]]
    threshold = sorted(accs)[1]
    assert set(ids("--where", f"val/acc>={threshold}")) == {
        r["id"] for r in runs if r["metrics"]["val/acc"] >= threshold
    }
    assert ids("--label", "adam", "--search", "bigger") == []
    assert [
        r["metrics"]["val/acc"] for r in mlws_json("runs", "--sort", "val/acc", "--asc", cwd=ws, env=env)
    ] == sorted(accs)
    assert ids("--search", "label_smoothing") == [1, 2, 3, 4] and ids("--search", "no_such_key") == []  # config keys


def test_a_dirty_workspace_shows_in_diff(tmp_path):
    """diff's code section: dirty flags and whether the uncommitted patch changed between runs."""
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    record_only = use_record_only_backend(ws)  # records, no training: what diff reads
    (ws / ".gitignore").write_text(".mlws/\nruns/\ntesting_backends/\nconf/compute/record_only.yaml\n")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "ignore"], cwd=ws, check=True)
    assert mlws("train", "+experiment=model_01", *record_only, cwd=ws, env=env).returncode == 0
    (ws / "experiments" / "model_01.yaml").write_text((ws / "experiments" / "model_01.yaml").read_text() + "# tweak\n")
    assert mlws("train", "+experiment=model_01", *record_only, cwd=ws, env=env).returncode == 0
    code = mlws_json("diff", "1", "2", cwd=ws, env=env)["code"]
    assert code["dirty"] == [False, True] and code["patch_changed"] is True and code["same_commit"] is True


def test_labels_and_notes(tmp_path):
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    record_only = use_record_only_backend(ws)
    assert (
        mlws(
            "train", "+experiment=model_01", *record_only, "--label", "baseline", "--note", "first", cwd=ws, env=env
        ).returncode
        == 0
    )
    assert mlws("label", "1", "best", "baseline-beater", cwd=ws, env=env).returncode == 0
    assert mlws_json("show", "1", cwd=ws, env=env)["labels"] == ["baseline", "best", "baseline-beater"]
    assert mlws("label", "1", "--remove", "baseline-beater", cwd=ws, env=env).returncode == 0
    assert mlws("note", "1", "Swapped the MLP for a CNN; overfits after epoch 15.", cwd=ws, env=env).returncode == 0
    shown = mlws_json("show", "1", cwd=ws, env=env)
    assert shown["labels"] == ["baseline", "best"] and shown["note"].startswith("Swapped the MLP")
    assert [r["id"] for r in mlws_json("runs", "--search", "overfits", cwd=ws, env=env)] == [1]


@pytest.fixture(scope="module")
def one_record(tmp_path_factory):
    """One recorded run (record-only backend), shared: each bad-input case proves it changed nothing."""
    tmp = tmp_path_factory.mktemp("one")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    assert mlws("train", "+experiment=model_01", *use_record_only_backend(ws), cwd=ws, env=env).returncode == 0
    return ws, env


@pytest.mark.parametrize(
    "args, needle",
    [
        (["label", "1", "has space"], "invalid label 'has space'"),
        (["label", "1", "bell\x07"], "invalid label"),
        (["label", "9", "ok"], "no run 9"),
        (["label", "1", "--remove", "never-set"], "has no label never-set"),
        (["note", "9", "x"], "no run 9"),
        (["diff", "1", "9"], "no run 9"),
        (["lineage", "9"], "no run 9"),
        (["rerun", "9"], "no run 9"),
        (["runs", "--where", "val/acc>>1"], "cannot read condition"),
        (["lineage", "--best", "val/nothing"], "no succeeded run has the metric 'val/nothing'"),
    ],
)
def test_bad_lineage_input(args, needle, one_record):
    ws, env = one_record
    before = mlws_json("show", "1", cwd=ws, env=env)
    out = mlws(*args, cwd=ws, env=env)
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert mlws_json("show", "1", cwd=ws, env=env) == before  # nothing changed


def test_a_one_megabyte_note_is_refused(tmp_path):
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    SHORT = use_record_only_backend(ws)  # noqa: N806 - records, no training
    assert mlws("train", "+experiment=model_01", *SHORT, "--note", "kept", cwd=ws, env=env).returncode == 0
    out = subprocess.run(
        [sys.executable, "-m", "mlws.cli.main", "note", "1", "-"],
        input="x" * 1_000_000,
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "limit is 65,536" in out.stderr
    assert mlws_json("show", "1", cwd=ws, env=env)["note"] == "kept"
    big = mlws("train", "+experiment=model_01", *SHORT, "--note", "y" * 70_000, cwd=ws, env=env)
    assert big.returncode == 2 and len(mlws_json("runs", cwd=ws, env=env)) == 1  # nothing recorded


def test_rerun_same_config_and_warns_when_code_changed(tmp_path):
    ws, env = make_workspace(tmp_path / "ws"), clean_env(tmp_path)
    assert mlws("train", "+experiment=model_02", "model.lr=0.04", *SHORT, cwd=ws, env=env).returncode == 0
    same = mlws("rerun", "1", cwd=ws, env=env)
    assert same.returncode == 0 and "warning" not in same.stderr
    (ws / "experiments" / "model_02.yaml").write_text((ws / "experiments" / "model_02.yaml").read_text() + "\n# edit\n")
    changed = mlws("rerun", "1", cwd=ws, env=env)
    assert changed.returncode == 0 and "warning: uncommitted changes differ from run 1" in changed.stderr
    runs = {r["id"]: mlws_json("show", str(r["id"]), cwd=ws, env=env) for r in mlws_json("runs", cwd=ws, env=env)}
    assert runs[2]["config"] == runs[1]["config"] == runs[3]["config"]
    assert runs[2]["rerun_of"] == 1 and runs[2]["parent_id"] == 1 and runs[2]["command"] == "mlws rerun 1"
    assert runs[2]["metrics"]["val/acc"] == pytest.approx(runs[1]["metrics"]["val/acc"])  # seeded: same result


@pytest.mark.chromium
def test_report_renders_in_chromium(history, tmp_path):
    ws, env = history
    out = mlws("report", "-o", str(tmp_path / "report.html"), cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    page_file = tmp_path / "report.html"
    text = page_file.read_text()
    assert "<script src=" not in text and "cdn" not in text.lower()[:2000]  # self-contained
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(page_file.as_uri())
            page.wait_for_function("document.querySelectorAll('.plotly .main-svg').length >= 3", timeout=30000)
            plots = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
            rows = page.evaluate("document.querySelectorAll('table tr').length")
            story = page.inner_text("body")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert plots == 3 and rows == 1 + 4
    assert "from baseline to run" in story and "data.normalize: False → True" in story
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_report_overlays_the_curves_of_the_runs_asked_for(history, tmp_path):
    ws, env = history
    out = mlws("report", "-o", str(tmp_path / "r.html"), "--runs", "1,3", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "r.html").read_text()
    groups = {g for g in ("1", "2", "3", "4") if f'"legendgroup":"{g}"' in page}
    assert groups == {"1", "3"}  # one curve group per run asked for, no others
    bad = mlws("report", "-o", str(tmp_path / "x.html"), "--runs", "1,x", cwd=ws, env=env)
    assert bad.returncode == 2 and "--runs takes run ids" in bad.stderr and not (tmp_path / "x.html").exists()
