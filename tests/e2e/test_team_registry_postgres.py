"""The same registry on a real PostgreSQL server that this test starts (and stops)."""

import pytest

from ..support.helpers import create_runs_concurrently, free_port, mlws, mlws_json
from ..support.postgres_server import postgres_server, postgres_url  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.postgres]


def test_team_registry_on_postgresql(postgres_url, ws, env, tmp_path):
    env = {**env, "MLWS_REGISTRY_URL": postgres_url}
    out = mlws(
        "train", "+experiment=model_01", "trainer.max_epochs=1", "logger=none", "--label", "shared", cwd=ws, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    # a teammate with another checkout sees the same history
    from ..support.helpers import make_workspace

    other = make_workspace(tmp_path / "teammate")
    assert (
        mlws("train", "+experiment=model_02", "trainer.max_epochs=1", "logger=none", cwd=other, env=env).returncode == 0
    )
    runs = mlws_json("runs", cwd=ws, env=env)
    assert [(r["id"], r["experiment"], r["status"]) for r in runs] == [
        (1, "model_01", "succeeded"),
        (2, "model_02", "succeeded"),
    ]
    assert runs[0]["labels"] == ["shared"]
    assert mlws_json("lineage", "2", cwd=other, env=env)[-1]["parent"] == 1
    assert mlws_json("diff", "1", "2", cwd=ws, env=env)["config"]["changed"]["data.normalize"] == [False, True]
    assert mlws_json("runs", "--search", "MODEL_02", cwd=ws, env=env)[0]["id"] == 2  # case-insensitive
    # nothing of this went to the workspace's SQLite file
    assert not (ws / ".mlws" / "registry.db").exists()

    ids = create_runs_concurrently(postgres_url, processes=3, per_process=10)
    assert sorted(ids) == list(range(3, 33))


def test_unreachable_team_registry_is_a_clear_error(ws, env):
    out = mlws("runs", cwd=ws, env={**env, "MLWS_REGISTRY_URL": f"postgresql://u:secret@127.0.0.1:{free_port()}/x"})
    assert out.returncode == 2 and "cannot reach the registry database" in out.stderr
    assert "secret" not in out.stderr and "Traceback" not in out.stderr


# A compute backend that plays a cloud node: the worker runs in a folder of its own (the node's synced
# copy of the workspace, without runs/ or .mlws/), told only the team registry's URL, as SkyPilot's node would be (MLWS_REMOTE=1).
NODE_BACKEND = """
import os, shutil, subprocess, sys
from pathlib import Path

from mlws.compute import Backend, Submission


class NodeBackend(Backend):
    name = "node"

    def submit(self, spec_path, *, detach, prepared=None):
        node = Path(self.config["node_dir"])
        shutil.copytree(Path(spec_path).parents[2], node, ignore=shutil.ignore_patterns("runs", ".mlws", ".git"))
        run_dir = node / "runs" / Path(spec_path).parent.name
        run_dir.mkdir(parents=True)
        shutil.copy(spec_path, node / "spec.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLWS_")}
        env.update(MLWS_REMOTE="1", MLWS_RUN_DIR=str(run_dir), MLWS_REGISTRY_URL=os.environ["MLWS_REGISTRY_URL"])
        done = subprocess.run([sys.executable, "-m", "mlws.worker", str(node / "spec.json")], cwd=node, env=env,
                              capture_output=True, text=True, timeout=600)
        sys.stderr.write(done.stderr[-3000:])
        return Submission(handle={"node": str(node), "exit": done.returncode}, remote=True,
                          message=done.stderr[-2000:] if done.returncode else "ran on the node")
"""


def test_a_node_writes_its_outcome_straight_to_the_team_registry(postgres_url, ws, env, tmp_path):
    (ws / "acme").mkdir()
    (ws / "acme" / "__init__.py").write_text("")
    (ws / "acme" / "node.py").write_text(NODE_BACKEND)
    node = tmp_path / "node"
    (ws / "conf" / "compute").mkdir(exist_ok=True)  # beside mlws's packaged compute blocks
    (ws / "conf" / "compute" / "node.yaml").write_text(f"_target_: acme.node.NodeBackend\nnode_dir: {node}\n")
    env = {**env, "MLWS_REGISTRY_URL": postgres_url}
    out = mlws("train", "+experiment=model_01", "trainer.max_epochs=2", "logger=none", "compute=node", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "succeeded" and run["backend"] == "node", (run["artifacts"], out.stderr[-3000:])
    assert 0 < run["metrics"]["val/acc"] <= 1 and run["artifacts"]["compute"]["exit"] == 0
    # the node wrote to PostgreSQL itself: no result.json fallback, checkpoints on the node's disk
    assert not (node / "runs" / "1" / "result.json").exists()
    assert (node / "runs" / "1" / "checkpoints" / "last.ckpt").exists()
    assert str(node) in run["artifacts"]["checkpoints"]["last"]
    assert not (ws / ".mlws" / "registry.db").exists()


# The first released schema, in PostgreSQL's dialect: no labels, notes, lineage, no version table.
PG_SCHEMA_1 = """
CREATE TABLE runs (id BIGSERIAL PRIMARY KEY, experiment TEXT, overrides TEXT NOT NULL, config TEXT NOT NULL,
  command TEXT, git TEXT NOT NULL, git_patch TEXT, versions TEXT NOT NULL, backend TEXT NOT NULL, status TEXT NOT NULL,
  created_at TEXT NOT NULL, started_at TEXT, ended_at TEXT, metrics TEXT NOT NULL DEFAULT '{}',
  artifacts TEXT NOT NULL DEFAULT '{}', run_dir TEXT, error TEXT, host TEXT, pid INTEGER, pid_started DOUBLE PRECISION)
"""


def _old_pg_registry(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute(PG_SCHEMA_1)
        db.execute(
            "INSERT INTO runs (experiment, overrides, config, command, git, versions, backend, status, "
            "created_at, metrics, run_dir) VALUES ('model_01', '[\"+experiment=model_01\"]', '{\"seed\": 1}', "
            "'mlws train', '{}', '{}', 'local', 'succeeded', '2026-01-01T00:00:00+00:00', "
            "'{\"val/acc\": 0.5}', '/old/runs/1')"
        )


def test_schema_1_on_postgresql_migrates_and_a_newer_schema_is_refused(postgres_url, ws, env):
    import psycopg

    _old_pg_registry(postgres_url)
    env = {**env, "MLWS_REGISTRY_URL": postgres_url}
    runs = mlws_json("runs", cwd=ws, env=env)
    assert [(r["id"], r["experiment"], r["metrics"], r["labels"], r["note"]) for r in runs] == [
        (1, "model_01", {"val/acc": 0.5}, [], "")
    ]
    assert mlws("label", "1", "old-baseline", cwd=ws, env=env).returncode == 0
    with psycopg.connect(postgres_url, autocommit=True) as db:
        assert db.execute("SELECT value FROM mlws_meta WHERE key='schema_version'").fetchone() == ("3",)
        db.execute("UPDATE mlws_meta SET value='99' WHERE key='schema_version'")
    out = mlws("runs", cwd=ws, env=env)
    assert out.returncode == 2 and "schema version 99, newer than this mlws understands" in out.stderr
    assert "Traceback" not in out.stderr


def test_locked_team_registry_is_a_clear_error_and_loses_nothing(postgres_url, ws, env):
    import psycopg

    _old_pg_registry(postgres_url)
    env = {**env, "MLWS_REGISTRY_URL": postgres_url}
    mlws_json("runs", cwd=ws, env=env)  # migrated
    holder = psycopg.connect(postgres_url)  # a transaction that holds the writers' lock, like another writer
    try:
        holder.execute("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")
        out = mlws("label", "1", "x", cwd=ws, env={**env, "MLWS_REGISTRY_TIMEOUT": "1"})
        assert out.returncode == 2 and "is locked by another process (waited 1 s)" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
        assert [r["id"] for r in mlws_json("runs", cwd=ws, env=env)] == [1]  # readers go on meanwhile
    finally:
        holder.rollback()
        holder.close()
    assert mlws("label", "1", "x", cwd=ws, env=env).returncode == 0
    assert mlws_json("show", "1", cwd=ws, env=env)["labels"] == ["x"]


def test_an_optuna_sweep_keeps_its_study_in_the_team_database(postgres_url, ws, env):
    """Record-only trials (tests/support/helpers.py): the sweep, its trials and Optuna's study all land in
    the team's PostgreSQL, and resuming there finds the study complete."""
    from ..support.helpers import use_record_only_backend

    env = {**env, "MLWS_REGISTRY_URL": postgres_url}
    args = [
        "+experiment=model_12",
        *use_record_only_backend(ws),
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.seed=1",
        "model.lr=interval(1e-4,1e-2)",
    ]
    out = mlws("train", "-m", *args, cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    import psycopg

    with psycopg.connect(postgres_url) as db:
        states = db.execute(
            "SELECT t.state::text, COUNT(*) FROM trials t JOIN studies s ON s.study_id = t.study_id "
            "WHERE s.study_name = 'mlws-sweep-1' GROUP BY t.state"
        ).fetchall()
        assert states == [("COMPLETE", 3)]
        assert db.execute("SELECT COUNT(*) FROM runs WHERE sweep_id = 1 AND status = 'succeeded'").fetchone() == (3,)
    assert not (ws / ".mlws" / "registry.db").exists()
    again = mlws("train", "-m", *args, cwd=ws, env=env)
    assert again.returncode == 0 and "all 3 trials are complete" in again.stdout, again.stdout


def test_metric_queries_on_postgresql_agree_with_the_reference(postgres_url, tmp_path):
    """The same SQL-side --where/--sort, best run and ancestors as on SQLite (tests/unit)."""
    from mlws.registry import open_registry

    from ..support.registry_reference import SORTS, WHERES, check_against_reference, check_best_and_ancestors, fill

    reg = fill(open_registry(postgres_url), tmp_path)
    for where in WHERES:
        for sort, ascending in SORTS:
            for limit in (None, 2):
                check_against_reference(reg, where, sort, ascending, limit)
    check_best_and_ancestors(reg)
