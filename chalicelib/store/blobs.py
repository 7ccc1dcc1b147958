"""Files in S3, always under the tenant's prefix: tenants/<tenant>/<key>.
Downloads are handed out as presigned URLs, never proxied."""
from __future__ import annotations

from typing import Any, BinaryIO

from chalicelib import settings
from chalicelib.store.clients import client


def object_key(tenant: str, key: str) -> str:
    if not tenant or ".." in key or key.startswith("/"):
        raise ValueError("blob keys are relative paths inside the tenant prefix")
    return f"tenants/{tenant}/{key}"


def put(tenant: str, key: str, data: bytes | BinaryIO, *, content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None, sha1_hex: str | None = None) -> str:
    """Store an object. With ``sha1_hex`` (already computed by the caller) S3
    verifies the bytes it received against it, and botocore skips computing a
    checksum of its own: one pass over the file, not two."""
    full = object_key(tenant, key)
    params: dict[str, Any] = {"Bucket": settings.blob_bucket(), "Key": full, "Body": data,
                              "ContentType": content_type, "Metadata": metadata or {}}
    if sha1_hex:
        import base64

        params["ChecksumSHA1"] = base64.b64encode(bytes.fromhex(sha1_hex)).decode()
    client("s3").put_object(**params)
    return full


def get(tenant: str, key: str) -> bytes:
    answer = client("s3").get_object(Bucket=settings.blob_bucket(), Key=object_key(tenant, key))
    return answer["Body"].read()


def open_stream(tenant: str, key: str, byte_range: str | None = None) -> Any:
    params = {"Bucket": settings.blob_bucket(), "Key": object_key(tenant, key)}
    if byte_range:
        params["Range"] = byte_range
    return client("s3").get_object(**params)["Body"]


def head(tenant: str, key: str) -> dict[str, Any] | None:
    s3 = client("s3")
    try:
        return s3.head_object(Bucket=settings.blob_bucket(), Key=object_key(tenant, key))
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def delete(tenant: str, key: str) -> None:
    client("s3").delete_object(Bucket=settings.blob_bucket(), Key=object_key(tenant, key))


def presigned_download(tenant: str, key: str, *, filename: str | None = None, expires: int | None = None) -> str:
    params: dict[str, Any] = {"Bucket": settings.blob_bucket(), "Key": object_key(tenant, key)}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    return client("s3").generate_presigned_url("get_object", Params=params,
                                               ExpiresIn=expires or settings.presign_seconds())


def presigned_upload(tenant: str, key: str, *, content_type: str, max_bytes: int,
                     expires: int | None = None) -> dict[str, Any]:
    """A presigned POST: the size limit is enforced by S3 itself."""
    return client("s3").generate_presigned_post(
        Bucket=settings.blob_bucket(), Key=object_key(tenant, key),
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires or settings.presign_seconds(),
    )


def storage_usage_update(tx: Any, tenant: str, delta: int, quota: int, failure: Any) -> None:
    """Add ``delta`` bytes to the tenant's storage usage in ``tx``, refused
    (``failure``) if that would pass ``quota``."""
    from chalicelib.store import keys

    names = {"#b": "bytes"}
    if delta <= 0:
        tx.update(settings.main_table(), keys.storage_usage_key(tenant), "ADD #b :d", names=names,
                  values={":d": delta})
        return
    tx.update(settings.main_table(), keys.storage_usage_key(tenant), "ADD #b :d",
              condition="attribute_not_exists(#b) OR #b <= :room", names=names,
              values={":d": delta, ":room": quota - delta}, failure=failure)


def storage_used(tenant: str) -> int:
    from chalicelib.store import keys
    from chalicelib.store.dynamo import get

    item = get(settings.main_table(), keys.storage_usage_key(tenant))
    return int(item.get("bytes", 0)) if item else 0
