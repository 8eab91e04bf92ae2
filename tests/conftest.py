import pytest

from .helpers import clean_env, make_workspace, stop_what_the_workspace_started


@pytest.fixture
def ws(tmp_path):
    """A private example workspace (git repo) for one test. Whatever the test left running from it
    (detached runs, servers, a local Ray head) is stopped afterwards, even when an assertion failed."""
    path = make_workspace(tmp_path / "ws")
    try:
        yield path
    finally:
        stop_what_the_workspace_started(path)


@pytest.fixture
def env(tmp_path):
    return clean_env(tmp_path)
