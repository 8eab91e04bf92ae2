"""One small class per cloud storage SDK, with the same three methods: list, download, upload. The SDK
is imported when a store is made (an optional extra); its errors become NotInBucket (the bucket said
no such object) or BucketUnreachable (anything else: nothing is known)."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import MlwsError


class NotInBucket(MlwsError):
    """The bucket answered: no such object (a run that never wrote it)."""


class BucketUnreachable(MlwsError):
    """The bucket could not be read (no SDK, no credentials, no network): nothing is known."""


def _missing(sdk: str, extra: str, url: str):
    return BucketUnreachable(f"reading {url} buckets here needs {sdk}: pip install 'mlws[{extra}]'")


class S3:
    """s3:// (and r2://, S3-compatible stores): boto3 with its own configuration (credentials, region,
    and AWS_ENDPOINT_URL_S3 for another endpoint). r2:// reads Cloudflare's account id as SkyPilot does."""

    def __init__(self, scheme: str, host: str = ""):
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise _missing("boto3", "aws", f"{scheme}://") from None
        kwargs = {"config": Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 3})}
        if scheme == "r2" and not os.environ.get("AWS_ENDPOINT_URL_S3"):
            account = Path("~/.cloudflare/accountid").expanduser()
            if not account.is_file():
                raise BucketUnreachable("r2:// needs ~/.cloudflare/accountid (as SkyPilot's R2 setup writes it)")
            kwargs["endpoint_url"] = f"https://{account.read_text().strip()}.r2.cloudflarestorage.com"
            kwargs["region_name"] = "auto"
        self.scheme, self.client = scheme, boto3.client("s3", **kwargs)

    def _error(self, e: Exception, where: str):
        from botocore.exceptions import ClientError

        if isinstance(e, ClientError):
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return NotInBucket(f"{where}: not in the bucket")
            return BucketUnreachable(f"{where}: {code or 'error'} ({e.response.get('Error', {}).get('Message', '')})")
        return BucketUnreachable(f"{where}: {type(e).__name__}: {e}")

    def list(self, bucket: str, prefix: str) -> list[tuple[str, int]]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            return [(o["Key"], int(o["Size"])) for page in pages for o in page.get("Contents") or []]
        except Exception as e:
            raise self._error(e, f"{self.scheme}://{bucket}/{prefix}") from None

    def download(self, bucket: str, key: str, dest: Path) -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.client.download_file(bucket, key, str(dest))
        except Exception as e:
            raise self._error(e, f"{self.scheme}://{bucket}/{key}") from None
        return dest.stat().st_size

    def upload(self, source: Path, bucket: str, key: str) -> None:
        try:
            self.client.upload_file(str(source), bucket, key)
        except Exception as e:
            raise self._error(e, f"{self.scheme}://{bucket}/{key}") from None


class GCS:
    """gs://: google-cloud-storage with Application Default Credentials."""

    def __init__(self, scheme: str = "gs", host: str = ""):
        try:
            from google.cloud import storage
        except ImportError:
            raise _missing("google-cloud-storage", "gcp", "gs://") from None
        try:
            self.client = storage.Client()
        except Exception as e:
            raise BucketUnreachable(f"gs://: {type(e).__name__}: {e}") from None

    def _error(self, e: Exception, where: str):
        if type(e).__name__ == "NotFound":
            return NotInBucket(f"{where}: not in the bucket")
        return BucketUnreachable(f"{where}: {type(e).__name__}: {e}")

    def list(self, bucket: str, prefix: str) -> list[tuple[str, int]]:
        try:
            return [(b.name, int(b.size or 0)) for b in self.client.list_blobs(bucket, prefix=prefix)]
        except Exception as e:
            raise self._error(e, f"gs://{bucket}/{prefix}") from None

    def download(self, bucket: str, key: str, dest: Path) -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.client.bucket(bucket).blob(key).download_to_filename(str(dest))
        except Exception as e:
            dest.unlink(missing_ok=True)
            raise self._error(e, f"gs://{bucket}/{key}") from None
        return dest.stat().st_size

    def upload(self, source: Path, bucket: str, key: str) -> None:
        try:
            self.client.bucket(bucket).blob(key).upload_from_filename(str(source))
        except Exception as e:
            raise self._error(e, f"gs://{bucket}/{key}") from None


class Azure:
    """https://ACCOUNT.blob.core.windows.net/CONTAINER: azure-storage-blob, with
    AZURE_STORAGE_CONNECTION_STRING when set, else azure-identity's DefaultAzureCredential."""

    def __init__(self, scheme: str, host: str):
        try:
            from azure.storage.blob import BlobServiceClient
        except ImportError:
            raise _missing("azure-storage-blob", "azure", "https://*.blob.core.windows.net") from None
        self.host = host
        try:
            if os.environ.get("AZURE_STORAGE_CONNECTION_STRING"):
                self.client = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
            else:
                from azure.identity import DefaultAzureCredential

                self.client = BlobServiceClient(f"https://{host}", credential=DefaultAzureCredential())
        except ImportError:
            raise _missing("azure-identity", "azure", "https://*.blob.core.windows.net") from None
        except Exception as e:
            raise BucketUnreachable(f"https://{host}: {type(e).__name__}: {e}") from None

    def _error(self, e: Exception, where: str):
        if type(e).__name__ == "ResourceNotFoundError":
            return NotInBucket(f"{where}: not in the container")
        return BucketUnreachable(f"{where}: {type(e).__name__}: {e}")

    def list(self, container: str, prefix: str) -> list[tuple[str, int]]:
        try:
            blobs = self.client.get_container_client(container).list_blobs(name_starts_with=prefix)
            return [(b.name, int(b.size or 0)) for b in blobs]
        except Exception as e:
            raise self._error(e, f"https://{self.host}/{container}/{prefix}") from None

    def download(self, container: str, key: str, dest: Path) -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = self.client.get_blob_client(container, key).download_blob().readall()
        except Exception as e:
            raise self._error(e, f"https://{self.host}/{container}/{key}") from None
        dest.write_bytes(data)
        return len(data)

    def upload(self, source: Path, container: str, key: str) -> None:
        try:
            with open(source, "rb") as f:
                self.client.get_blob_client(container, key).upload_blob(f, overwrite=True)
        except Exception as e:
            raise self._error(e, f"https://{self.host}/{container}/{key}") from None
