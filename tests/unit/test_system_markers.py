"""The marker per external system (tests/conftest.py): each is registered in pyproject.toml, a test
whose system is missing is skipped with the reason, and with CI=true it fails instead."""

import pytest

from .. import conftest


class Item:
    """What the hook reads of a collected test: its markers."""

    def __init__(self, *names):
        self.names = names

    def get_closest_marker(self, name):
        return object() if name in self.names else None


def test_every_system_has_a_registered_marker(pytestconfig):
    registered = {m.split(":")[0] for m in pytestconfig.getini("markers")}
    assert set(conftest.SYSTEMS) | {"slow"} <= registered


@pytest.fixture
def no_tmux(monkeypatch):
    monkeypatch.setitem(conftest.SYSTEMS, "tmux", (lambda: False, "apt-get install tmux"))
    monkeypatch.setattr(conftest, "_present", {})


def test_a_missing_system_skips_with_the_reason(no_tmux, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs tmux, which is not on this machine: apt-get install tmux"):
        conftest.pytest_runtest_setup(Item("slow", "tmux"))
    conftest.pytest_runtest_setup(Item("slow"))  # slow needs nothing


def test_with_ci_a_missing_system_fails(no_tmux, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: needs tmux"):
        conftest.pytest_runtest_setup(Item("tmux"))
