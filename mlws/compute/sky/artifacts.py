"""Run directories kept in a bucket (compute.bucket), read and written from this machine through the
cloud's own storage SDK: boto3 for s3:// and S3-compatible stores (r2://, or any endpoint through
boto3's AWS_ENDPOINT_URL_S3), google-cloud-storage for gs://, azure-storage-blob for Azure's
https://ACCOUNT.blob.core.windows.net/CONTAINER/... Each is an optional extra (mlws[aws], mlws[gcp],
mlws[azure]); a missing one is a one-line error.

Never SkyPilot's node-side copy commands: on a laptop they install awscli into ~/skypilot-runtime, or
download the Linux Cloud SDK, delete ~/google-cloud-sdk and edit ~/.bashrc.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from ...errors import MlwsError
from .bucket_stores import GCS, S3, Azure, BucketUnreachable, NotInBucket  # noqa: F401  (SDKs load when used)


def parse(url: str) -> tuple[str, str, str, str]:
    """(scheme, host, bucket or container, key prefix). Azure keeps the container as its bucket."""
    u = urlparse(url)
    scheme = u.scheme.lower()
    if scheme in ("https", "http") and u.netloc.endswith(".blob.core.windows.net"):
        container, _, key = u.path.lstrip("/").partition("/")
        return "azure", u.netloc, container, key
    if scheme not in ("s3", "r2", "gs") or not u.netloc:
        raise MlwsError(
            f"compute.bucket {url!r}: mlws reads s3://, r2://, gs:// and "
            "https://ACCOUNT.blob.core.windows.net/CONTAINER buckets"
        )
    return scheme, "", u.netloc, u.path.lstrip("/")


def _store(scheme: str, host: str):
    return {"s3": S3, "r2": S3, "gs": GCS, "azure": Azure}[scheme](scheme, host)


def _safe_key(path: str) -> str:
    parts = PurePosixPath(path.lstrip("/")).parts
    if ".." in parts:
        raise MlwsError(f"{path!r}: outside run directory")
    return "/".join(parts)


def copy_from_bucket(run_url: str, path: str, dest) -> dict:
    """RUN_URL/PATH to dest: a file, or a folder (PATH ending in /) with everything under it."""
    scheme, host, bucket, prefix = parse(run_url)
    key = "/".join(p for p in (prefix.rstrip("/"), _safe_key(path)) if p)
    store, dest = _store(scheme, host), Path(dest)
    if path.endswith("/") or not path:
        objects = store.list(bucket, key.rstrip("/") + "/")
        if not objects:
            raise NotInBucket(f"nothing under {run_url.rstrip('/')}/{path}")
        total = 0
        for name, size in objects:
            rel = name[len(key.rstrip("/")) + 1 :]
            if not rel or rel.endswith("/") or ".." in PurePosixPath(rel).parts:
                continue
            store.download(bucket, name, dest / rel)
            total += size
        return {"files": len(objects), "bytes": total, "dest": str(dest)}
    target = dest / Path(key).name if dest.is_dir() else dest
    size = store.download(bucket, key, target)
    return {"files": 1, "bytes": size, "dest": str(target)}


def in_bucket(url: str) -> bool:
    """Whether URL (a key in a bucket) is there, asked of the bucket's SDK; BucketUnreachable when
    the bucket cannot say. A listing, not a download: a checkpoint may be gigabytes."""
    scheme, host, bucket, key = parse(url)
    return any(name == key for name, _ in _store(scheme, host).list(bucket, key))


def upload_to_bucket(source, url: str) -> None:
    """A file to URL (a key in a bucket)."""
    scheme, host, bucket, key = parse(url)
    _store(scheme, host).upload(Path(source), bucket, key)
