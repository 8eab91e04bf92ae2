"""mlws rerun --exact: the run's own commit (a git worktree), packages and data, deterministic: on CPU
the final safetensors weights are bit-identical to the original's, even after the workspace's code
moved on; refused, naming what differs, when the packages or the data changed. The data fingerprint
is shown by `mlws show`, is a change in `mlws diff`, and `mlws rerun` warns when it changed.

Real CLI, real Lightning on the bundled digits, through a workspace data module (userdata.py) that
reads a scale from data/scale.txt: its data is the files under data_dir (it defines no fingerprint())."""

import hashlib
import sqlite3
import subprocess
from pathlib import Path

import pytest

from ..support.helpers import clean_env, make_workspace, mlws, mlws_json, stop_what_the_workspace_started

USERDATA = """
from pathlib import Path

from torch.utils.data import TensorDataset

from mlws.examples.digits import DigitsDataModule

FACTOR = 1.0


class Digits(DigitsDataModule):
    fingerprint = None  # its data is the files under data_dir

    def __init__(self, data_dir: str = "data", **kwargs):
        super().__init__(**kwargs)
        self.data_dir = data_dir

    def setup(self, stage=None):
        fresh = self.train_set is None
        super().setup(stage)
        if fresh:
            scale = float(Path(self.data_dir, "scale.txt").read_text()) * FACTOR
            self.train_set = TensorDataset(self.train_set.tensors[0] * scale, self.train_set.tensors[1])
            self.val_set = TensorDataset(self.val_set.tensors[0] * scale, self.val_set.tensors[1])
"""

TINY = [
    "+experiment=model_12",
    "trainer.max_epochs=2",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "logger=none",
    "monitor.hardware_interval_s=0",
    "data._target_=userdata.Digits",
    "+data.data_dir=data",
    "data.augment_shift=1",
]  # random shifts: the data loader's generator matters too


def commit(ws: Path, message: str) -> None:
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message]):
        subprocess.run(["git", *args], cwd=ws, check=True)


def weights_hash(ws: Path, run_id: int) -> str:
    return hashlib.sha256((ws / "runs" / str(run_id) / "checkpoints" / "last.safetensors").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A workspace with userdata.py committed, data/ ignored as data is, and run 1 trained on it."""
    tmp = tmp_path_factory.mktemp("exact")
    ws = make_workspace(tmp / "ws")
    (ws / "userdata.py").write_text(USERDATA)
    (ws / ".gitignore").write_text(".mlws/\nruns/\ndata/\n")
    (ws / "data").mkdir()
    (ws / "data" / "scale.txt").write_text("0.5\n")
    commit(ws, "userdata")
    env = clean_env(tmp)
    done = mlws("train", *TINY, cwd=ws, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    try:
        yield ws, env
    finally:
        stop_what_the_workspace_started(ws)


def test_the_data_fingerprint_is_recorded_and_shown(shared):
    ws, env = shared
    record = mlws_json("show", "1", cwd=ws, env=env)
    data = record["artifacts"]["data"]
    assert data["method"] == "files" and data["files"] == 1 and data["digest"].startswith("sha256:")
    shown = mlws("show", "1", cwd=ws, env=env)
    assert f"data: {data['digest']} (1 file, 4 bytes under data.data_dir=data)" in shown.stdout


def test_an_exact_rerun_gives_the_same_weights_with_the_run_s_own_code(shared):
    ws, env = shared
    # the workspace's code moves on (committed): the exact rerun still runs the run's commit
    user = ws / "userdata.py"
    user.write_text(user.read_text().replace("FACTOR = 1.0", "FACTOR = 3.0"))
    commit(ws, "factor 3")
    out = mlws("rerun", "--exact", "1", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    new = max(r["id"] for r in mlws_json("runs", cwd=ws, env=env))
    record = mlws_json("show", str(new), cwd=ws, env=env)
    assert record["status"] == "succeeded" and record["rerun_of"] == 1
    assert record["command"] == "mlws rerun --exact 1"
    assert record["git"]["commit"] == mlws_json("show", "1", cwd=ws, env=env)["git"]["commit"]
    assert weights_hash(ws, new) == weights_hash(ws, 1)  # bit for bit
    assert record["artifacts"]["exact"] == {
        "of": 1,
        "identical": True,
        "max_abs_diff": 0.0,
        "within": True,
        "tolerance": 1e-5,
    }
    assert not list((ws / ".mlws" / "exact").iterdir())  # the worktree is gone after a foreground run
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ws, capture_output=True, text=True).stdout
    assert len(worktrees.strip().splitlines()) == 1, worktrees


def runs_count(ws: Path, env: dict) -> int:
    return len(mlws_json("runs", cwd=ws, env=env))


def test_exact_refuses_other_package_versions_by_name(shared):
    ws, env = shared
    before = runs_count(ws, env)
    with sqlite3.connect(ws / ".mlws" / "registry.db") as db:  # as if run 1 had used another torch
        versions = db.execute("SELECT versions FROM runs WHERE id = 1").fetchone()[0]
        db.execute("UPDATE runs SET versions = ? WHERE id = 1", (versions.replace('"torch": "', '"torch": "0.0.1+'),))
    try:
        out = mlws("rerun", "--exact", "1", cwd=ws, env=env)
    finally:
        with sqlite3.connect(ws / ".mlws" / "registry.db") as db:
            db.execute("UPDATE runs SET versions = ? WHERE id = 1", (versions,))
    assert out.returncode != 0
    assert "package versions differ from run 1's: torch 0.0.1+" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert runs_count(ws, env) == before  # nothing recorded


def test_changed_data_is_refused_by_exact_warned_by_rerun_and_a_change_in_diff(shared):
    ws, env = shared
    (ws / "data" / "scale.txt").write_text("0.25\n")
    before = runs_count(ws, env)
    out = mlws("rerun", "--exact", "1", cwd=ws, env=env)
    assert out.returncode != 0
    assert "rerun --exact: the data changed (data.data_dir=data)" in out.stderr, out.stderr
    assert runs_count(ws, env) == before and not list((ws / ".mlws" / "exact").iterdir())
    plain = mlws("rerun", "1", cwd=ws, env=env)
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert "warning: the data changed (data.data_dir=data): fingerprint" in plain.stderr
    new = before + 1
    diff = mlws("diff", "1", str(new), cwd=ws, env=env)
    assert "data: changed (" in diff.stdout, diff.stdout
    assert mlws_json("diff", "1", str(new), cwd=ws, env=env)["data"]["changed"] is True
    assert "data: same fingerprint" in mlws("diff", "1", "1", cwd=ws, env=env).stdout
    lineage = mlws_json("lineage", str(new), cwd=ws, env=env)  # the rerun's parent is run 1
    assert [s["id"] for s in lineage][-2:] == [1, new] and any(
        line.startswith("data: changed (") for line in lineage[-1]["summary"]
    ), lineage
    # shown in the views too: lineage (the first run's data, then where it changes), the report, watch
    short = [mlws_json("show", str(i), cwd=ws, env=env)["artifacts"]["data"]["digest"][7:19] for i in (1, new)]
    text = mlws("lineage", str(new), cwd=ws, env=env).stdout
    assert f"data: fingerprint {short[0]} (data.data_dir=data)" in text, text
    assert f"data: fingerprint {short[1]} (data.data_dir=data)" in text, text
    assert [s["data_digest"][7:19] for s in lineage[-2:]] == short
    page = ws / "runs" / "r.html"
    assert mlws("report", "-o", str(page), cwd=ws, env=env).returncode == 0
    assert f"data: <code>fingerprint {short[0]} (data.data_dir=data)</code>" in page.read_text()
    watched = mlws("watch", str(new), "--once", cwd=ws, env=env)
    assert f"data: fingerprint {short[1]} (data.data_dir=data)" in watched.stdout, watched.stdout
    assert mlws_json("watch", str(new), "--once", cwd=ws, env=env)["data"].startswith(f"fingerprint {short[1]}")
