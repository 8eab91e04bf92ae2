"""A team's own backend passes mlws.testing.BackendTestSuite the way a team would run it: a test file
of theirs, outside this repository, that imports only the installed mlws package (no tests/, no
conftest of ours), run by pytest in a child process."""

import os
import subprocess
import sys

USER_TESTS = '''
import sys

from mlws.testing import BackendTestSuite

BACKEND = """
import subprocess
import sys

from mlws.compute import Backend, Submission
from mlws.errors import MlwsError


class ScriptBackend(Backend):
    \\"\\"\\"Runs the worker as a child process and waits: a team's own backend in a dozen lines.\\"\\"\\"
    name = "script"

    def prepare(self, spec):
        if not self.config.get("greeting"):
            raise MlwsError("compute.greeting: empty; say who is training")
        return {}

    def submit(self, spec_path, *, detach, prepared=None):
        done = subprocess.run([sys.executable, "-m", "mlws.worker", str(spec_path)], capture_output=True, text=True)
        print(f"{self.config['greeting']}: worker exited {done.returncode}")
        return Submission(handle={"exit": done.returncode}, remote=False)
"""


class TestScriptBackend(BackendTestSuite):
    backend_name = "script"
    overrides = ("compute=script",)
    bad_overrides = ("compute.greeting=",)
    bad_message = "compute.greeting: empty"
    detach = cancel = logs = False  # it trains in the foreground and keeps no logs

    def setup_workspace(self, ws):
        (ws / "acme").mkdir()
        (ws / "acme" / "__init__.py").write_text("")
        (ws / "acme" / "compute.py").write_text(BACKEND)
        (ws / "conf" / "compute").mkdir(exist_ok=True)  # beside mlws's packaged compute blocks
        yaml = "_target_: acme.compute.ScriptBackend\\ngreeting: hello\\n"
        (ws / "conf" / "compute" / "script.yaml").write_text(yaml)


def test_nothing_came_from_mlws_own_tests():
    assert not [m for m in sys.modules if m == "tests" or m.startswith("tests.")]
'''


def test_a_users_script_backend_passes_the_suite_from_the_installed_package(tmp_path):
    project = tmp_path / "team"  # outside this repository: no conftest.py or pyproject.toml of ours
    project.mkdir()
    (project / "test_script_backend.py").write_text(USER_TESTS)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            "--basetemp",
            str(tmp_path / "bt"),
            "test_script_backend.py",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    summary = out.stdout.strip().splitlines()[-1]
    # the contract, the refusal, a foreground run's files; detach, stop and logs skipped as declared
    assert "4 passed, 2 skipped" in summary, out.stdout[-3000:]
    assert "SKIPPED [2]" in out.stdout and "the backend declares detach = False" in out.stdout, out.stdout[-3000:]
