"""An S3-compatible bucket on loopback for tests: moto's server mode (`python -m moto.server`, from
moto[server]) in its own process, reached through boto3 with an endpoint override
(AWS_ENDPOINT_URL_S3, which boto3 reads itself). Not AWS: it proves mlws's S3 calls, not a cloud."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .helpers import free_port

START_TIMEOUT_S = 60


class S3Server:
    def __init__(self, log: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto server did not come up:\n{Path(log).read_text()[-2000:]}")
            time.sleep(0.2)

    @property
    def env(self) -> dict:
        """What a client process needs: the endpoint, and credentials moto accepts (never real ones)."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def put_folder(self, folder: Path, bucket: str, prefix: str) -> int:
        """Upload a folder's files under PREFIX (what a node's MOUNT_CACHED bucket mount writes back)."""
        client, n = self.client(), 0
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                key = "/".join(p for p in (prefix.strip("/"), path.relative_to(folder).as_posix()) if p)
                client.upload_file(str(path), bucket, key)
                n += 1
        return n

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
