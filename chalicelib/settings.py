"""Settings read from the environment when needed, never at import.

The Chalice test client swaps ``os.environ`` per call and Lambda sets it once
per container, so every accessor reads it afresh (a dict lookup is cheap).
Names come from ``.chalice/config.json`` per stage.
"""
from __future__ import annotations

import os


def stage() -> str:
    return os.environ.get("DIALTONE_STAGE", "local")


def main_table() -> str:
    return os.environ["MAIN_TABLE"]


def ledger_table() -> str:
    return os.environ["LEDGER_TABLE"]


def audit_table() -> str:
    return os.environ["AUDIT_TABLE"]


def blob_bucket() -> str:
    return os.environ["BLOB_BUCKET"]


def queue_name(logical: str) -> str:
    """Physical queue name for a logical one ('orders' -> ORDERS_QUEUE)."""
    return os.environ[f"{logical.upper()}_QUEUE"]


def auth_cache_seconds() -> int:
    # How long a resolved API key is trusted by one warm process before it is
    # read again. Revocation elsewhere takes effect within this time.
    return int(os.environ.get("AUTH_CACHE_SECONDS", "5"))


def audit_sink() -> str:
    """'direct' writes audit records synchronously; 'log' emits a log line
    that the log-subscription consumer ingests (see docs/architecture.md)."""
    return os.environ.get("AUDIT_SINK", "direct")


def audit_retention_days() -> int:
    return int(os.environ.get("AUDIT_RETENTION_DAYS", "400"))


def presign_seconds() -> int:
    return int(os.environ.get("PRESIGN_SECONDS", "900"))


def password_hash_cost() -> int:
    """log2 of scrypt's N. 15 in production (~60 ms); lowered only in tests."""
    return int(os.environ.get("PASSWORD_HASH_LOG2N", "15"))


def max_file_bytes() -> int:
    """Largest stored file, after decompression; a bigger (or expanding) upload is refused."""
    return int(os.environ.get("MAX_FILE_BYTES", str(25 * 1024 * 1024)))


def storage_quota_bytes() -> int:
    """Bytes of attachments a tenant may store in total."""
    return int(os.environ.get("STORAGE_QUOTA_BYTES", str(5 * 1024**3)))


def inline_download_bytes() -> int:
    """Files up to this size are returned in the response body; larger ones
    redirect to a presigned S3 URL (Lambda answers at most 6 MB, base64 inflates 4/3)."""
    return int(os.environ.get("INLINE_DOWNLOAD_BYTES", str(4 * 1024 * 1024)))


def gzip_responses() -> bool:
    """Compress responses in the app. Off on AWS, where API Gateway compresses
    (minimum_compression_size in .chalice/config.json): never twice."""
    return os.environ.get("GZIP_RESPONSES", "0") == "1"


def gzip_minimum_bytes() -> int:
    return int(os.environ.get("GZIP_MINIMUM_BYTES", "1024"))


def cdr_upload_max_bytes() -> int:
    """Largest CDR file a presigned upload (carrier ``cdr_upload``) accepts; S3
    enforces it. 5 GiB is the most one S3 POST can carry."""
    return int(os.environ.get("CDR_UPLOAD_MAX_BYTES", str(5 * 1024**3)))
