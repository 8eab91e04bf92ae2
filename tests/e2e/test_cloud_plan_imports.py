"""Plan time (issue 24: a cloud plan stays under 3 s): SkyPilot imports jsonschema, whose format
checkers import rfc3987-syntax where JupyterLab brought it (a Lark grammar built at import: ~40% of
`import sky`). mlws's SkyPilot module keeps it out, and must be imported first: in the CLI and in the
fakes that the cloud tests and bench/bench_cloud_plan.py run the CLI through (sorted imports once moved
it after SkyPilot's, and the bench timed an import that the CLI does not do)."""

import os
import subprocess
import sys

from ..support.helpers import REPO

PROBE = """
import sys
sys.path.insert(0, {repo!r})
from tests.support import skypilot_fakes
skypilot_fakes.seed_catalog(__import__("pathlib").Path({home!r}))
skypilot_fakes.enable_aws()
import sky  # as mlws imports it, after the fakes and mlws's SkyPilot module
assert "sky" in sys.modules and "jsonschema" in sys.modules, "SkyPilot was not imported"
print("rfc3987_syntax:", sys.modules.get("rfc3987_syntax", "never imported"))
"""


def test_the_fakes_import_skypilot_as_the_cli_does(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "SKY_RUNTIME_DIR": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(repo=str(REPO), home=str(home))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "rfc3987_syntax: None", done.stdout
