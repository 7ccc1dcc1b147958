"""Files in S3, always under the tenant's prefix: tenants/<tenant>/<key>.
Downloads are handed out as presigned URLs, never proxied."""
from __future__ import annotations

from typing import Any, BinaryIO, Callable, Mapping

from chalicelib import settings
from chalicelib.domain.common.files import content_disposition
from chalicelib.store.clients import client
from chalicelib.store.dynamo import keys, table

# An object PUT in place before the record that names it is written carries
# UPLOAD_TAG=PENDING; the bucket's lifecycle rule ExpireUnrecordedUploads
# (infra/resources.json) expires it after a day unless mark_recorded has
# changed the tag to RECORDED (store/pending_files.py).
UPLOAD_TAG = "dialtone-upload"
PENDING = "pending"
RECORDED = "recorded"
_PENDING_TAGGING = f"{UPLOAD_TAG}={PENDING}"


def object_key(tenant: str, key: str, *, pending: bool = False) -> str:
    """``pending``: the key of a presigned upload not yet confirmed, under the
    ``pending/`` root that the bucket's lifecycle rule expires after a day
    (infra/resources.json), so an abandoned upload does not stay forever."""
    if not tenant or ".." in key or key.startswith("/"):
        raise ValueError("blob keys are relative paths inside the tenant prefix")
    return f"{'pending/' if pending else ''}tenants/{tenant}/{key}"


def put(tenant: str, key: str, data: bytes | BinaryIO, *, content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None, sha1_hex: str | None = None, tagged: bool = False) -> str:
    """Store an object. With ``sha1_hex`` (already computed by the caller) S3
    verifies the bytes it received against it, and botocore computes nothing
    over the body: one pass over the file, not two. (The client that signs
    payloads would SHA-256 the whole body first over plain HTTP, i.e. on the
    local stand-in: ≈ 10 ms per 16 MiB. Over HTTPS with a checksum header it
    does not, so the unsigned client is what AWS gets either way.)
    ``tagged``: with the pending tag until mark_recorded() (store/pending_files.py)."""
    full = object_key(tenant, key)
    params: dict[str, Any] = {"Bucket": settings.blob_bucket(), "Key": full, "Body": data,
                              "ContentType": content_type, "Metadata": metadata or {}}
    if tagged:
        params["Tagging"] = _PENDING_TAGGING
    if sha1_hex:
        import base64

        params["ChecksumSHA1"] = base64.b64encode(bytes.fromhex(sha1_hex)).decode()
    (_streaming_client() if sha1_hex else client("s3")).put_object(**params)
    return full


def get(tenant: str, key: str) -> bytes:
    answer = client("s3").get_object(Bucket=settings.blob_bucket(), Key=object_key(tenant, key))
    body: bytes = answer["Body"].read()
    return body


def get_if_present(tenant: str, key: str) -> bytes | None:
    """The object's bytes, or None when there is no such object."""
    s3 = client("s3")
    try:
        return get(tenant, key)
    except s3.exceptions.ClientError as error:
        if _missing(error):
            return None
        raise


def _missing(error: Any) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def mark_recorded(tenant: str, key: str) -> bool:
    """Replace the object's pending tag (put with ``tagged``) by the recorded
    one, so the lifecycle rule no longer expires it; repeatable. False when
    there is no such object (deleted, or expired before anyone marked it).
    PutObjectTagging, not DeleteObjectTagging: one IAM action for both this
    and the PUT's own tagging, and moto answers DeleteObjectTagging on a
    missing key with a 500 instead of a 404."""
    s3 = client("s3")
    try:
        s3.put_object_tagging(Bucket=settings.blob_bucket(), Key=object_key(tenant, key),
                              Tagging={"TagSet": [{"Key": UPLOAD_TAG, "Value": RECORDED}]})
    except s3.exceptions.ClientError as error:
        # MethodNotAllowed: the key's current version is a delete marker (a versioned bucket).
        if _missing(error) or error.response.get("Error", {}).get("Code") == "MethodNotAllowed":
            return False
        raise
    return True


def upload_tag(tenant: str, key: str) -> str | None:
    """The object's UPLOAD_TAG value (PENDING, RECORDED, or None: stored
    before tags, or by Dialtone itself). Tests and the local lifecycle."""
    tags = client("s3").get_object_tagging(Bucket=settings.blob_bucket(), Key=object_key(tenant, key))["TagSet"]
    return next((t["Value"] for t in tags if t["Key"] == UPLOAD_TAG), None)


def open_stream(tenant: str, key: str, byte_range: str | None = None, *, pending: bool = False) -> Any:
    params = {"Bucket": settings.blob_bucket(), "Key": object_key(tenant, key, pending=pending)}
    if byte_range:
        params["Range"] = byte_range
    return client("s3").get_object(**params)["Body"]


def head(tenant: str, key: str, *, pending: bool = False) -> dict[str, Any] | None:
    s3 = client("s3")
    try:
        found: dict[str, Any] = s3.head_object(Bucket=settings.blob_bucket(), Key=object_key(tenant, key, pending=pending))
        return found
    except s3.exceptions.ClientError as error:
        if _missing(error):
            return None
        raise


def delete(tenant: str, key: str, *, pending: bool = False) -> None:
    client("s3").delete_object(Bucket=settings.blob_bucket(), Key=object_key(tenant, key, pending=pending))


def promote(tenant: str, key: str) -> bool:
    """Copy the object under ``pending/`` (which the bucket's lifecycle rule
    expires) to its place under the tenant (server-side, bytes and metadata
    unchanged); the pending object stays for the caller to delete. False when
    there is no pending object (already promoted and deleted, or expired)."""
    bucket = settings.blob_bucket()
    s3 = client("s3")
    try:
        s3.copy_object(Bucket=bucket, Key=object_key(tenant, key),
                       CopySource={"Bucket": bucket, "Key": object_key(tenant, key, pending=True)},
                       MetadataDirective="COPY")
    except s3.exceptions.ClientError as error:
        if _missing(error):
            return False
        raise
    return True


def presigned_download(tenant: str, key: str, *, filename: str | None = None, expires: int | None = None) -> str:
    params: dict[str, Any] = {"Bucket": settings.blob_bucket(), "Key": object_key(tenant, key)}
    if filename:
        params["ResponseContentDisposition"] = content_disposition(filename)
    url: str = client("s3").generate_presigned_url("get_object", Params=params,
                                                   ExpiresIn=expires or settings.presign_seconds())
    return url


def presigned_upload(tenant: str, key: str, *, content_type: str, max_bytes: int,
                     expires: int | None = None) -> dict[str, Any]:
    """A presigned POST to the pending key: the size limit is enforced by S3 itself."""
    return presigned_post(object_key(tenant, key, pending=True), max_bytes=max_bytes, content_type=content_type,
                          expires=expires)


def presigned_post(full_key: str, *, max_bytes: int, content_type: str | None = None,
                   expires: int | None = None, metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A presigned POST (url and form fields) for one object at ``full_key``
    (a bucket key, not tenant-relative) of 1 to ``max_bytes`` bytes, and of
    ``content_type`` when given: S3 enforces both. ``metadata`` becomes the
    object's user metadata (``x-amz-meta-<name>``), fixed by the policy too."""
    fields = {"Content-Type": content_type} if content_type else {}
    meta = {f"x-amz-meta-{name}": value for name, value in (metadata or {}).items()}
    grant: dict[str, Any] = client("s3").generate_presigned_post(
        Bucket=settings.blob_bucket(), Key=full_key, Fields={**fields, **meta},
        Conditions=[*([fields] if fields else []), *({name: value} for name, value in meta.items()),
                    ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires or settings.presign_seconds(),
    )
    return grant


def storage_usage_update(tx: Any, tenant: str, delta: int, quota: int, failure: Any) -> None:
    """Add ``delta`` bytes to the tenant's storage usage in ``tx``, refused
    (``failure``) if that would pass ``quota``."""
    names = {"#b": "bytes"}
    if delta <= 0:
        tx.update(settings.main_table(), keys.storage_usage_key(tenant), "ADD #b :d", names=names,
                  values={":d": delta})
        return
    tx.update(settings.main_table(), keys.storage_usage_key(tenant), "ADD #b :d",
              condition="attribute_not_exists(#b) OR #b <= :room", names=names,
              values={":d": delta, ":room": quota - delta}, failure=failure)


def storage_used(tenant: str) -> int:
    item = table.get(settings.main_table(), keys.storage_usage_key(tenant))
    return int(item.get("bytes", 0)) if item else 0


class _Aborted(Exception):
    """The producer gave up: the body must not be completed."""


class _PieceReader:
    """The body of a streamed PUT: hands the HTTP client the pieces a producer
    queues, in the order they come. A raised error (the producer aborted)
    ends the request before Content-Length bytes were sent, so S3 stores nothing."""

    # urllib3 asks for 16 KiB at a time; handing it whole pieces (about 1 MiB)
    # means fewer Python-level calls, GIL hand-offs and syscalls for the same bytes.
    MIN_BLOCK = 1 << 22

    def __init__(self, pieces: Any) -> None:
        self._pieces = pieces
        self._piece: memoryview = memoryview(b"")
        self._at = 0
        self._ended = False

    def read(self, size: int | None = -1) -> bytes | memoryview:
        if size is None or size < 0:  # everything to the end (in-process stand-ins read so)
            return b"".join(bytes(block) for block in iter(lambda: self.read(1 << 20), b""))
        while self._at >= len(self._piece):
            if self._ended:
                return b""
            piece = self._pieces.get()
            if piece is None:
                self._ended = True
                return b""
            if isinstance(piece, BaseException):
                raise piece
            self._piece, self._at = memoryview(piece), 0
        block = max(size, self.MIN_BLOCK)
        out = self._piece[self._at:self._at + block]
        self._at += len(out)
        return out  # sendall takes the view: no copy


class ObjectWriter:
    """An object stored while its bytes are still being produced: one
    PutObject of a known size runs in a background thread and reads the
    pieces ``write`` queues (a bounded queue: memory stays a few pieces), so
    sending to S3 overlaps with producing. ``close`` completes it; ``abort``
    (or any failure) leaves no object behind.

    Why one PUT and not a multipart upload: the size is known up front, the
    files are at most tens of MiB (one PUT takes up to 5 GB), and a multipart
    upload costs three kinds of request and, on the local S3 stand-in, ran
    40% slower than a single PUT.

    ``key`` may be a callable: it is called on the upload's thread before the
    PUT starts, so the producer can begin while the key is still being
    worked out (an id allocated, an access check made). Nothing is sent to
    S3 before it returns; if it raises, the upload fails with its error.
    ``tagged``: as for put."""

    def __init__(self, tenant: str, key: str | Callable[[], str], *, size: int, content_type: str,
                 sha1_hex: str | None, metadata: dict[str, str] | None = None, depth: int = 6,
                 tagged: bool = False) -> None:
        import queue
        import threading

        self.tenant, self.size = tenant, size
        self.key: str | None = key if isinstance(key, str) else None
        self._pieces: "queue.Queue[Any]" = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._aborted = threading.Event()
        params: dict[str, Any] = {"Bucket": settings.blob_bucket(), "Body": _PieceReader(self._pieces),
                                  "ContentLength": size, "ContentType": content_type, "Metadata": metadata or {}}
        if tagged:
            params["Tagging"] = _PENDING_TAGGING
        if sha1_hex:
            import base64

            # S3 checks the whole body against it and refuses a mismatch.
            params["ChecksumSHA1"] = base64.b64encode(bytes.fromhex(sha1_hex)).decode()
        self._thread = threading.Thread(target=self._run, args=(params, key), name="s3-put", daemon=True)
        self._thread.start()

    def _run(self, params: dict[str, Any], key: str | Callable[[], str]) -> None:
        try:
            if not isinstance(key, str):
                key = key()
                if self._aborted.is_set():
                    return  # refused while the key was worked out: no request at all
                self.key = key
            _streaming_client().put_object(Key=object_key(self.tenant, key), **params)
        except BaseException as error:  # handed to the producer's thread
            self._error = error
        finally:
            self._done.set()

    def write(self, piece: bytes | memoryview | None) -> None:
        """Queue a piece; waits while the queue is full. Raises the upload's error if it failed."""
        import queue

        while True:
            if self._done.is_set():
                self._raise_failure()
                raise RuntimeError("the upload ended before its last byte")
            try:
                self._pieces.put(piece, timeout=0.05)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Every byte was written: wait for S3 to store the object."""
        self.write(None)  # the end marker
        self._thread.join()
        self._raise_failure()

    def abort(self) -> None:
        """Stop the upload; whatever happened, no object remains."""
        import queue

        self._aborted.set()
        # Until the upload's thread stops: make room (the queue may be full)
        # and put the abort marker where the reader will take it. Both steps
        # each round: a reader that emptied the queue meanwhile waits on it
        # for the marker (skipping the put when the queue was empty hung here).
        while not self._done.is_set():
            try:
                self._pieces.get_nowait()
            except queue.Empty:
                pass
            try:
                self._pieces.put_nowait(_Aborted("upload aborted"))
            except queue.Full:
                pass
            self._done.wait(0.05)
        self._thread.join()
        if self.key is not None:  # None: the key was never worked out, nothing was sent
            delete(self.tenant, self.key)  # harmless when nothing was stored

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error


def _streaming_client() -> Any:
    """The S3 client for PUTs that carry ChecksumSHA1 (streamed or not): the
    payload is not signed (S3 checks ChecksumSHA1 instead), so botocore need
    not read the body twice."""
    return client("s3", unsigned_payload=True)
