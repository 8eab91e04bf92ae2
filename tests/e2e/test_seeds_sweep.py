"""`seed=` in a sweep (issue 27), through the real CLI: `mlws sweep N` groups the trials by everything
but the seed, ranks the groups by their mean with a 95% interval and says whether the best and the
runner-up are distinguishable from seed noise (table, markdown, --json). Runs are recorded with the
seeded test backend that trains nothing (named so): model_12's wider net is better by 0.1."""

from __future__ import annotations

from ..support.helpers import mlws, mlws_json
from ..support.seeded import use_seeded_backend


def test_a_sweep_over_seeds_ranks_its_groups_by_their_mean(ws, env):
    rec = use_seeded_backend(ws)
    out = mlws_json(
        "train", "-m", "+experiment=model_12", *rec, "model.net.channels=[16,32],[32,64]", "seed=1,2,3", cwd=ws, env=env
    )
    found = out["seed_groups"]
    assert found["keys"] == ["model.net.channels"]
    assert [g["params"]["model.net.channels"] for g in found["groups"]] == [[32, 64], [16, 32]]
    assert [g["n"] for g in found["groups"]] == [3, 3] and found["top_two"]["distinguishable"] is True
    table = " ".join(mlws("sweep", str(out["sweep"]["id"]), cwd=ws, env=env).stdout.split())
    assert "by model.net.channels over seeds (mean ± sd [95% CI]): 1. model.net.channels=[32, 64]: 0.8" in table
    assert "best vs runner-up: +0.1" in table and ": distinguishable from seed noise (Welch's t-test" in table
    md = mlws("sweep", str(out["sweep"]["id"]), "--format", "markdown", cwd=ws, env=env).stdout
    assert "```text\nby model.net.channels over seeds" in md
    plain = mlws_json("train", "-m", "+experiment=model_12", *rec, "model.lr=1e-3,3e-4", cwd=ws, env=env)
    assert plain["seed_groups"] is None
    assert "over seeds" not in mlws("sweep", str(plain["sweep"]["id"]), cwd=ws, env=env).stdout
