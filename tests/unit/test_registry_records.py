"""The registry's types hold to its table: RunRecord has a key for each column (a column added to the
schema without its type fails here), and Registry is a RunStore."""

from typing import get_type_hints

from mlws.registry import Registry, RunRecord, RunStore, open_registry
from mlws.registry.dialects import COLUMNS, MONITOR_COLUMNS
from mlws.registry.records import Monitor
from mlws.spec import RunSpec


def test_a_run_record_has_a_key_for_every_column_of_the_runs_table():
    columns = {name for name, _, _ in COLUMNS} - set(MONITOR_COLUMNS) | {"id", "monitor"}
    assert set(get_type_hints(RunRecord)) == columns
    assert set(get_type_hints(Monitor)) == {c.split("_", 1)[1] for c in MONITOR_COLUMNS}


def test_the_registry_is_a_run_store_and_returns_whole_records(tmp_path):
    registry = open_registry(f"sqlite:///{tmp_path / 'registry.db'}")
    assert isinstance(registry, Registry) and isinstance(registry, RunStore)
    spec = RunSpec(experiment="x", overrides=(), config={}, workspace="/", command="c", created_at="2026-01-01")
    run_id = registry.create(spec, "", "local", run_dir_for=str)
    assert set(registry.get(run_id)) == set(get_type_hints(RunRecord))
    assert set(registry.list()[0]) <= set(get_type_hints(RunRecord))
