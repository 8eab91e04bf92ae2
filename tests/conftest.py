import pytest

from .helpers import clean_env, make_workspace


@pytest.fixture
def ws(tmp_path):
    """A private example workspace (git repo) for one test."""
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def env(tmp_path):
    return clean_env(tmp_path)
