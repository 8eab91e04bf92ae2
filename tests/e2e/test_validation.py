"""Bad input: one clear message naming the key and file, non-zero exit, no traceback, nothing recorded."""

import pytest

from ..support.helpers import mlws, mlws_json


def assert_rejected(out, *needles):
    assert out.returncode == 2, (out.returncode, out.stderr)  # 2: a usage error, not a failed run
    assert "Traceback" not in out.stderr + out.stdout
    assert out.stderr.startswith("error: "), out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr


@pytest.mark.parametrize(
    "args, needles",
    [
        (["+experiment=model_12", "model.lrr=3e-4"], ["unknown key 'model.lrr'", "did you mean 'model.lr'"]),
        (
            ["+experiment=model_12", "trainer.max_epochs=abc"],
            ["trainer.max_epochs", "expected int", "'abc'", "command-line override 'trainer.max_epochs=abc'"],
        ),
        (["+experiment=model_99"], ["experiment 'model_99' not found", "did you mean"]),
        (["+experiment=model_03", "data.batch_size=0"], ["data.batch_size", "must be >= 1"]),
        (["+experiment=model_03", "model.net.dropout=1.5"], ["model.net.dropout", "must be < 1"]),
        (["+experiment=model_03", "model.lr=="], ["cannot parse override"]),
        (["+experiment=model_03", "trainer=nope"], ["Could not find 'trainer/nope'"]),
        (["+experiment=model_03", "monitor.mode=maximum"], ["monitor.mode", "one of"]),
    ],
)
def test_bad_overrides_are_rejected_before_anything_runs(args, needles, ws, env):
    out = mlws("train", *args, cwd=ws, env=env)
    assert_rejected(out, *needles)
    assert mlws_json("runs", cwd=ws, env=env) == []
    assert not (ws / "runs").exists()


def test_typo_in_experiment_file_names_key_and_file(ws, env):
    (ws / "experiments" / "model_13.yaml").write_text(
        "# @package _global_\ndefaults:\n  - model_12\n  - _self_\nmodel:\n  weight_decy: 0.1\n"
    )
    out = mlws("train", "+experiment=model_13", cwd=ws, env=env)
    assert_rejected(
        out, "model.weight_decy: unknown key", "experiments/model_13.yaml", "did you mean 'model.weight_decay'"
    )
    assert mlws_json("runs", cwd=ws, env=env) == []


def test_wrong_type_in_experiment_file_names_the_file(ws, env):
    (ws / "experiments" / "model_13.yaml").write_text(
        "# @package _global_\ndefaults:\n  - model_12\n  - _self_\ndata:\n  batch_size: lots\n"
    )
    out = mlws("check", "model_13", cwd=ws, env=env)
    assert out.returncode == 1
    assert "data.batch_size: expected int, got str 'lots' (set in experiments/model_13.yaml)" in out.stdout


def test_outside_a_workspace(tmp_path, env):
    out = mlws("runs", cwd=tmp_path, env=env)
    assert_rejected(out, "no mlws workspace")


def test_unknown_run_id(ws, env):
    assert_rejected(mlws("show", "42", cwd=ws, env=env), "no run 42")
