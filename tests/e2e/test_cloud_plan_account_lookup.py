"""Plan time (issue 24): SkyPilot's AWS catalog asks `aws configure list` (a subprocess) for the
account the first time it is read; a plan starts that read on a thread beside the optimizer's own
work (mlws/compute/sky/pricing.py). The account is still asked (SkyPilot's own path, its answer used
by the optimizer), and once: SkyPilot's lock keeps the optimizer from asking it again."""

import os

import pytest

from ..support.skypilot_cli import V100x2, sky_mlws

pytestmark = [pytest.mark.sky]

AWS = """#!/bin/sh
# `aws`, as SkyPilot calls it: each call logged, `configure list` answered as a machine without keys,
# as slowly as the real CLI starts (long enough for a second, concurrent call to be seen)
echo "$*" >> {log}
sleep 1
echo "      Name                    Value             Type    Location"
echo "      ----                    -----             ----    --------"
echo "   profile                <not set>             None    None"
echo "access_key                <not set>             None    None"
echo "secret_key                <not set>             None    None"
echo "    region                <not set>             None    None"
"""


def test_a_first_plan_asks_skypilots_account_lookup_once(ws, env, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "aws-calls.log"
    (bin_dir / "aws").write_text(AWS.format(log=log))
    (bin_dir / "aws").chmod(0o755)
    path = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', os.environ['PATH'])}"}
    out = sky_mlws(ws, path, tmp_path, "plan", *V100x2)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "# chosen: AWS p3.4xlarge-fake in us-east-1 × 1 node(s): $6.12/hour" in out.stdout
    assert log.read_text().splitlines() == ["configure list"]
    # the task has no AWS offering: the account is still SkyPilot's to ask, and the refusal its optimizer's
    log.unlink()
    other = sky_mlws(ws, path, tmp_path, "plan", "+experiment=model_12", "compute=sky", "compute.accelerators=V100:3")
    assert other.returncode != 0 and "no cloud offering matches" in other.stderr, other.stderr[-2000:]
    assert log.read_text().splitlines() == ["configure list"]
