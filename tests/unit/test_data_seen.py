"""The views' words for the data a run saw, and one evaluation per step in `mlws watch`."""

from mlws.history.chain import steps
from mlws.monitor.data_seen import data_text
from mlws.monitor.snapshot import once_per_step


def run(run_id: int, data: dict | None, parent=None) -> dict:
    artifacts = {"data": data} if data is not None else {}
    config = {"model": {"lr": 0.1}, "monitor": {"metric": "val/acc"}}
    return {"id": run_id, "parent_id": parent, "config": config, "metrics": {}, "artifacts": artifacts}


def test_the_fingerprint_in_a_few_words():
    files = {"digest": "sha256:" + "ab" * 32, "method": "files", "paths": {"data.data_dir": "images"}}
    assert data_text(run(1, files)) == "fingerprint abababababab (data.data_dir=images)"
    own = {"digest": "sha256:" + "cd" * 32, "method": "Digits.fingerprint()"}
    assert data_text(run(1, own)) == "fingerprint cdcdcdcdcdcd (Digits.fingerprint())"
    assert data_text(run(1, {"digest": None, "reason": "not fingerprinted: no path"})) == "not fingerprinted: no path"
    assert data_text(run(1, None)) == "not recorded"


def test_a_lineage_step_whose_data_changed_says_so_and_shows_both():
    a, b = {"digest": "sha256:" + "1" * 64, "method": "x"}, {"digest": "sha256:" + "2" * 64, "method": "x"}
    chain = steps([run(1, a), run(2, a, 1), run(3, b, 2)])
    assert [s["data"][:24] for s in chain] == ["fingerprint 111111111111"] * 2 + ["fingerprint 222222222222"]
    assert not any(line.startswith("data:") for line in chain[1]["summary"])
    assert "data: changed (111111111111 → 222222222222)" in chain[2]["summary"]


def test_watch_counts_each_step_once_after_a_resume():
    rows = [{"step": 3}, {"step": 6}, {"step": 9, "v": "old"}, {"step": 9, "v": "new"}, {"step": 12}]
    assert once_per_step(rows) == [{"step": 3}, {"step": 6}, {"step": 9, "v": "new"}, {"step": 12}]
    rewound = [{"step": 3}, {"step": 6}, {"step": 9}, {"step": 6, "v": "again"}]  # read between kill and resume
    assert once_per_step(rewound) == [{"step": 3}, {"step": 6, "v": "again"}]
