"""A sweep's trials stay comparable (issue 27), through the real CLI: once the experiment file a
sweep is built on changes outside the swept keys, `mlws sweep N --resume`, the same command again and
the same `--seeds` command are refused with the keys named, and record nothing; `--force` starts a new
sweep that follows the old one, which keeps its own trials. Runs are recorded with the test backend
that trains nothing (named so)."""

from __future__ import annotations

from ..support.helpers import mlws, mlws_json, use_record_only_backend


def _counts(ws, env):
    return len(mlws_json("runs", cwd=ws, env=env)), len(mlws_json("sweeps", cwd=ws, env=env))


def test_a_changed_base_config_is_refused_then_forced_into_a_new_linked_sweep(ws, env):
    rec = use_record_only_backend(ws)
    grid = ["train", "-m", "+experiment=model_12", *rec, "model.lr=1e-3,3e-4"]
    first = mlws_json(*grid, cwd=ws, env=env)["sweep"]
    again = mlws("sweep", str(first["id"]), "--resume", cwd=ws, env=env)  # unchanged: nothing to refuse
    assert again.returncode == 0 and "(resumed)" in again.stdout and _counts(ws, env) == (2, 1), again.stderr
    seeds = ["train", "+experiment=model_12", *rec, "trainer.max_epochs=3", "--seeds", "2"]  # a family of its own
    group = mlws_json(*seeds, cwd=ws, env=env)["group"]

    exp = ws / "experiments" / "model_12.yaml"
    exp.write_text(exp.read_text().replace("channels: [32, 64]", "channels: [16, 64]"))
    before = _counts(ws, env)
    for args in (["sweep", str(first["id"]), "--resume"], grid, seeds):
        out = mlws(*args, cwd=ws, env=env)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "were built on another config: model.net.channels: [32, 64] → [16, 64]" in out.stderr, out.stderr
        assert "--force" in out.stderr and "Traceback" not in out.stderr
    assert _counts(ws, env) == before

    forced = mlws_json("sweep", str(first["id"]), "--resume", "--force", cwd=ws, env=env)["sweep"]
    assert forced["id"] != first["id"] and forced["settings"]["follows"] == first["id"]
    assert len(mlws_json("sweep", str(first["id"]), cwd=ws, env=env)["trials"]) == 2  # never mixed
    new_trials = mlws_json("sweep", str(forced["id"]), cwd=ws, env=env)["trials"]
    assert len(new_trials) == 2
    assert all(
        mlws_json("show", str(t["run"]), cwd=ws, env=env)["config"]["model"]["net"]["channels"] == [16, 64]
        for t in new_trials
    )
    # the same command again now continues the new sweep (nothing differs from its trials)
    assert mlws_json(*grid, cwd=ws, env=env)["sweep"]["id"] == forced["id"]
    assert group["n"] == 2
