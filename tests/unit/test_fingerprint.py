"""The data fingerprint from files (mlws/training/fingerprint.py): which keys name paths, a digest
that follows the files' contents, the cache that spares a second run from reading them, the time
bound, and the records that say why there is no fingerprint."""

import os

from mlws.training.fingerprint import changed, data_fingerprint, files_fingerprint, path_values


def test_path_like_keys_are_found_nested_and_others_are_not():
    cfg = {
        "_target_": "x.Data",
        "data_dir": "a",
        "batch_size": 64,
        "train": {"root": "b", "name": "c"},
        "label_file": "d",
        "url": "https://example.com/x",
        "image_path": "",
        "files": ["e"],
        "sizes": [1, 2],
    }
    assert path_values(cfg) == {
        "data.data_dir": "a",
        "data.train.root": "b",
        "data.label_file": "d",
        "data.files.0": "e",
    }


def tree(root, files: dict):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_digest_follows_the_contents_and_the_cache_spares_reading(tmp_path):
    tree(tmp_path / "ws" / "data", {"a.txt": "1", "sub/b.txt": "22"})
    ws, cache = tmp_path / "ws", tmp_path / "cache.json"
    first = files_fingerprint({"data.data_dir": "data"}, ws, cache_path=cache)
    assert first["files"] == 2 and first["bytes"] == 3 and first["hashed"] == 2
    again = files_fingerprint({"data.data_dir": "data"}, ws, cache_path=cache)
    assert again["digest"] == first["digest"] and again["hashed"] == 0  # size and mtime known: no file read
    b = ws / "data" / "sub" / "b.txt"
    b.write_text("23")  # same size: the modification time tells
    os.utime(b, ns=(b.stat().st_atime_ns, b.stat().st_mtime_ns + 10**9))
    edited = files_fingerprint({"data.data_dir": "data"}, ws, cache_path=cache)
    assert edited["digest"] != first["digest"] and edited["hashed"] == 1
    assert changed(first, edited).startswith("the data changed (data.data_dir=data): fingerprint ")
    assert changed(first, again) is None
    tree(ws / "data", {"c.txt": ""})  # a new file is a change too
    assert files_fingerprint({"data.data_dir": "data"}, ws, cache_path=cache)["digest"] != edited["digest"]


def test_renaming_a_file_changes_the_digest(tmp_path):
    tree(tmp_path / "d", {"a.txt": "1"})
    before = files_fingerprint({"data.root": str(tmp_path / "d")}, tmp_path)
    (tmp_path / "d" / "a.txt").rename(tmp_path / "d" / "b.txt")
    assert files_fingerprint({"data.root": str(tmp_path / "d")}, tmp_path)["digest"] != before["digest"]


def test_over_its_time_budget_it_says_so_and_the_next_run_goes_on(tmp_path):
    tree(tmp_path / "data", {f"{i}.txt": str(i) for i in range(5)})
    cache = tmp_path / "cache.json"
    cut = files_fingerprint({"data.data_dir": "data"}, tmp_path, budget_s=-1, cache_path=cache)
    assert cut["digest"] is None and "took over" in cut["reason"] and cut["reason"].startswith("not fingerprinted")
    whole = files_fingerprint({"data.data_dir": "data"}, tmp_path, cache_path=cache)
    assert whole["digest"] and whole["files"] == 5


def test_what_cannot_be_fingerprinted_says_why(tmp_path):
    missing = data_fingerprint({"_target_": "no.such.Module", "data_dir": "nope"}, tmp_path)
    assert missing == {"digest": None, "reason": "not fingerprinted: data.data_dir=nope does not exist"}
    no_path = data_fingerprint({"_target_": "no.such.Module", "batch_size": 3}, tmp_path)
    assert no_path["digest"] is None and "defines no fingerprint() and its config names no path" in no_path["reason"]
    assert changed(no_path, missing) is None  # nothing can be said
