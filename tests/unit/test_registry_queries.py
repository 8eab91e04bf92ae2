"""The registry's metric queries, evaluated by the database (SQLite here; PostgreSQL runs the same
SQL in tests/e2e/test_team_registry_postgres.py): they agree with the Python reference filters."""

import pytest

from mlws.registry import open_registry

from ..support.registry_reference import SORTS, WHERES, check_against_reference, check_best_and_ancestors, fill


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """Filled once for the module: every query here only reads it."""
    tmp_path = tmp_path_factory.mktemp("registry")
    return fill(open_registry(f"sqlite:///{tmp_path / 'registry.db'}"), tmp_path)


@pytest.mark.parametrize("where", WHERES)
@pytest.mark.parametrize("sort, ascending", SORTS)
@pytest.mark.parametrize("limit", [None, 2])
def test_database_filters_and_sorts_like_the_reference(registry, where, sort, ascending, limit):
    check_against_reference(registry, where, sort, ascending, limit)


def test_best_run_follows_the_declared_mode_the_given_mode_and_ties_and_ancestors(registry):
    check_best_and_ancestors(registry)
