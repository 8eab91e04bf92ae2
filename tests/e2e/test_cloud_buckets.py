"""A run's folder in a bucket, read on this machine through the cloud's own SDK (issue 24, point 3):
an S3-compatible server on loopback (moto's server mode, tests/support/s3_server.py) reached by boto3 with an
endpoint override. Not AWS. What a real node's bucket mount (MOUNT_CACHED) writes back is played by
uploading the folder a real worker run wrote. SkyPilot's node-side copy commands never run here: they
would install awscli into ~/skypilot-runtime or the Cloud SDK into ~/google-cloud-sdk and edit ~/.bashrc."""

import json
import subprocess
import sys

import pytest

from ..support.helpers import mlws_json
from ..support.s3_server import S3Server
from ..support.skypilot_cli import V100x2, sky_mlws

pytestmark = [pytest.mark.sky]

BUCKET = "s3://team-bucket/mlws"


@pytest.fixture
def s3(tmp_path):
    server = S3Server(tmp_path / "moto.log")
    try:
        server.client().create_bucket(Bucket="team-bucket")
        yield server
    finally:
        server.stop()


def _node_writes_its_run(ws, env, tmp_path, s3, run_id: int = 1) -> str:
    """The worker, as on the node, on the spec the laptop launched; its run folder then uploaded to the
    run's key in the bucket (the mount's write-back). Returns the run's bucket URL."""
    spec = json.loads((ws / "runs" / str(run_id) / "spec.json").read_text())
    url = f"{BUCKET}/runs/{run_id}-{spec['uid']}"
    node = subprocess.run(
        [sys.executable, "-m", "mlws.worker", str(ws / "runs" / str(run_id) / "spec.json")],
        cwd=ws,
        env={**env, "MLWS_REMOTE": "1", "MLWS_RUN_DIR": str(tmp_path / "node")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert node.returncode == 0, node.stderr[-3000:]
    assert s3.put_folder(tmp_path / "node", "team-bucket", url.split("team-bucket/", 1)[1]) > 3
    return url


def test_loopback_s3_result_and_cp_through_boto3_and_nothing_installed(ws, env, tmp_path, s3):
    env = {**env, **s3.env}
    out = sky_mlws(
        ws,
        env,
        tmp_path,
        "train",
        *V100x2,
        f"compute.bucket={BUCKET}",
        "trainer.max_epochs=1",
        "logger=none",
        "--detach",
        record=tmp_path / "launch.json",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    url = _node_writes_its_run(ws, env, tmp_path, s3)
    assert mlws_json("show", "1", cwd=ws, env=env)["artifacts"]["bucket_run"] == url
    refreshed = sky_mlws(
        ws, env, tmp_path, "runs", "--json", "--refresh", record=tmp_path / "r.json", job_status="SUCCEEDED"
    )
    run = json.loads(refreshed.stdout)[0]
    assert run["status"] == "succeeded" and 0 < run["metrics"]["val/acc"] <= 1, refreshed.stderr[-2000:]
    copied = sky_mlws(ws, env, tmp_path, "cp", "1:checkpoints/", str(tmp_path / "back"))
    assert copied.returncode == 0, copied.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "back").iterdir()) == sorted(
        p.name for p in (tmp_path / "node" / "checkpoints").iterdir()
    )
    assert "copied" in copied.stdout and "file(s)" in copied.stdout
    one = sky_mlws(ws, env, tmp_path, "cp", "1:result.json", str(tmp_path / "result.json"))
    assert one.returncode == 0 and json.loads((tmp_path / "result.json").read_text())["status"] == "succeeded"
    bad = sky_mlws(ws, env, tmp_path, "cp", "1:../../other/x", str(tmp_path / "x"))
    assert bad.returncode == 2 and "outside run directory" in bad.stderr and "Traceback" not in bad.stderr
    home = tmp_path / "home"  # the HOME every laptop-side command above ran with
    assert not (home / "skypilot-runtime").exists() and not (home / "google-cloud-sdk").exists()
    assert not (home / ".bashrc").exists()


def test_loopback_s3_a_failed_copy_keeps_the_runs_status_with_a_warning(ws, env, tmp_path, s3):
    """A cluster run whose cluster autostop removed: its outcome can come only from the bucket. When the
    bucket cannot be read, the run stays as recorded (it was recorded failed before)."""
    env = {**env, **s3.env}
    out = sky_mlws(
        ws,
        env,
        tmp_path,
        "train",
        *V100x2,
        f"compute.bucket={BUCKET}",
        "compute.managed=false",
        "trainer.max_epochs=1",
        "logger=none",
        "--detach",
        record=tmp_path / "launch.json",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    _node_writes_its_run(ws, env, tmp_path, s3)
    dead = {**env, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}  # nothing listens: the bucket is unreachable
    kept = sky_mlws(
        ws, dead, tmp_path, "runs", "--json", "--refresh", record=tmp_path / "r1.json", job_status="CLUSTER_GONE"
    )
    assert kept.returncode == 0, kept.stderr[-2000:]
    assert json.loads(kept.stdout)[0]["status"] == "running"  # not `failed`
    assert "run 1: status unknown" in kept.stderr and "result.json could not be read" in kept.stderr
    done = sky_mlws(
        ws, env, tmp_path, "runs", "--json", "--refresh", record=tmp_path / "r2.json", job_status="CLUSTER_GONE"
    )
    assert json.loads(done.stdout)[0]["status"] == "succeeded", done.stderr[-2000:]


def test_without_boto3_one_line_says_which_extra_to_install(ws, env, tmp_path):
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "boto3.py").write_text("raise ImportError('boto3 is not installed here')\n")
    env = {**env, "PYTHONPATH": str(tmp_path / "hide")}
    assert (
        sky_mlws(
            ws, env, tmp_path, "train", *V100x2, f"compute.bucket={BUCKET}", "--detach", record=tmp_path / "a.json"
        ).returncode
        == 0
    )
    out = sky_mlws(ws, env, tmp_path, "cp", "1:checkpoints/", str(tmp_path / "back"))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert out.stderr.strip().splitlines()[-1].endswith("needs boto3: pip install 'mlws[aws]'")


@pytest.mark.parametrize(
    "url, needle",
    [
        ("gs://team/mlws/runs/1-ab", "needs google-cloud-storage: pip install 'mlws[gcp]'"),
        (
            "https://acct.blob.core.windows.net/cont/mlws/runs/1-ab",
            "needs azure-storage-blob: pip install 'mlws[azure]'",
        ),
    ],
)
def test_gcs_and_azure_say_which_extra_they_need(url, needle, tmp_path):
    """Neither SDK is installed here: the same interface, one clear message (their calls are not exercised)."""
    import importlib.util

    from mlws.compute.sky import artifacts

    try:
        installed = importlib.util.find_spec("google.cloud.storage" if url.startswith("gs") else "azure.storage.blob")
    except ModuleNotFoundError:
        installed = None
    if installed:
        pytest.skip("the SDK is installed here")
    with pytest.raises(artifacts.BucketUnreachable, match=needle.replace("[", r"\[").replace("]", r"\]")):
        artifacts.copy_from_bucket(url, "result.json", tmp_path / "x")


def test_an_azure_bucket_keeps_its_container_in_the_root():
    from mlws.compute.sky.artifacts import parse
    from mlws.compute.sky.compile import split_bucket

    url = "https://acct.blob.core.windows.net/cont/mlws"
    assert split_bucket(url) == ("https://acct.blob.core.windows.net/cont", "mlws")  # what SkyPilot mounts
    assert split_bucket("s3://team/mlws") == ("s3://team", "mlws")
    assert parse(url + "/runs/1-ab") == ("azure", "acct.blob.core.windows.net", "cont", "mlws/runs/1-ab")


def test_loopback_s3_an_odd_destination_is_just_a_path(s3, tmp_path, monkeypatch):
    """No shell runs: a destination with a space and `;` is a folder name like any other."""
    from mlws.compute.sky import artifacts

    for k, v in s3.env.items():
        monkeypatch.setenv(k, v)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "last.ckpt").write_bytes(b"w" * 10)
    s3.put_folder(tmp_path / "run", "team-bucket", "mlws/runs/3-ab")
    dest = tmp_path / "my runs; touch pwned"
    copied = artifacts.copy_from_bucket(f"{BUCKET}/runs/3-ab", "checkpoints/", dest)
    assert copied == {"files": 1, "bytes": 10, "dest": str(dest)} and (dest / "last.ckpt").read_bytes() == b"w" * 10
    assert not (tmp_path / "pwned").exists() and not any(p.name == "pwned" for p in tmp_path.iterdir())
    artifacts.upload_to_bucket(dest / "last.ckpt", f"{BUCKET}/runs/3-ab/copy.ckpt")  # and written back
    assert s3.client().head_object(Bucket="team-bucket", Key="mlws/runs/3-ab/copy.ckpt")["ContentLength"] == 10
    with pytest.raises(artifacts.NotInBucket):
        artifacts.copy_from_bucket(f"{BUCKET}/runs/3-ab", "nothing/", tmp_path / "x")
