"""Fixtures every test may use, and one marker per external system a test drives.

A test (or a module, with `pytestmark`) that drives a real service says so with a marker registered
in pyproject.toml: ray, serve, jupyter, postgres, sky, chromium, tmux. Where that system is missing
on this machine the test is skipped with the reason; with CI=true it fails instead, so CI can never
go green by skipping. `slow` marks long tests and needs nothing. `make test-fast` runs tests/unit and
tests/integration and deselects every one of these markers (see the Makefile); tests/e2e drives the
real CLI and services, tests/support holds what tests share.
"""

import glob
import importlib.util
import os
import shutil

import pytest

from .support.helpers import clean_env, make_workspace, stop_what_the_workspace_started


def _modules(*names: str) -> bool:
    """Are these modules importable? (find_spec of a top-level name imports nothing)"""
    return all(importlib.util.find_spec(name) is not None for name in names)


# marker → (is the system here?, how to get it). Python systems come with the dev extra (make setup);
# the programs are what .ci/run installs with apt when they are missing.
SYSTEMS = {
    "ray": (lambda: _modules("ray"), "pip install -e '.[ray]' (the dev extra has it)"),
    "serve": (lambda: _modules("ray", "starlette", "uvicorn"), "pip install -e '.[serve]' (the dev extra has it)"),
    "jupyter": (lambda: _modules("jupyterlab", "ipykernel"), "pip install -e '.[notebook]' (the dev extra has it)"),
    "sky": (lambda: _modules("sky"), "pip install -e '.[sky]' (the dev extra has it)"),
    "postgres": (
        lambda: _modules("psycopg") and bool(shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        "apt-get install postgresql, and pip install -e '.[postgres]' (.ci/run and the dev extra)",
    ),
    "chromium": (
        lambda: os.access("/usr/bin/chromium", os.X_OK) and _modules("playwright"),
        "apt-get install chromium (Debian's, at /usr/bin/chromium; .ci/run installs it)",
    ),
    "tmux": (lambda: bool(shutil.which("tmux")), "apt-get install tmux (.ci/run installs it)"),
}
_present: dict[str, bool] = {}


def missing_system(item) -> tuple[str, str] | None:
    """The first system one of the item's markers names that this machine lacks: (marker, hint)."""
    for name, (present, hint) in SYSTEMS.items():
        if item.get_closest_marker(name) is None:
            continue
        if name not in _present:
            _present[name] = bool(present())
        if not _present[name]:
            return name, hint
    return None


def pytest_runtest_setup(item):
    missing = missing_system(item)
    if missing is None:
        return
    name, hint = missing
    message = f"needs {name}, which is not on this machine: {hint}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


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
