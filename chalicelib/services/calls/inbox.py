"""The CDR inbox: where files land (a switch's drop, or a presigned upload),
and the cdr-files queue's messages about them (docs/cdrs.md, "Ingestion paths").

A file lands at ``cdr-inbox/<tenant>/<name>`` (bucket root) and S3 notifies
the queue; ``handle_notification`` takes each message: a small or compressed
object is ingested at once, a big plain one is split into byte ranges of
``ingest.SPLIT_BYTES`` published back to the queue, one message per part.
"""
from __future__ import annotations

import logging
from typing import Any, BinaryIO, Mapping
from urllib.parse import unquote_plus

from chalicelib.domain.errors import ValidationError
from chalicelib.observability import correlation
from chalicelib.services.calls import ingest
from chalicelib.services.calls import plain as cdr_plain
from chalicelib.services.calls.shared import require_tenant, stamp
from chalicelib.store import calls as store
from chalicelib.store import queues
from chalicelib.store.identity import users as identity

INBOX_PREFIX = "cdr-inbox/"
_log = logging.getLogger(__name__)


def inbox_key(tenant: str, name: str) -> str:
    """Where a CDR file named ``name`` lands for the tenant (S3 notifies the cdr-files queue)."""
    return f"{INBOX_PREFIX}{tenant}/{name}"


def upload_to_inbox(*, tenant: str, name: str, body: BinaryIO | bytes) -> str:
    """Put a file where the switch would: S3 notifies the cdr-files queue."""
    require_tenant(tenant)
    key = inbox_key(tenant, name)
    store.inbox_put(key, body)
    return key


def inbox_upload_url(*, tenant: str, name: str, max_bytes: int = 5 * 1024**3) -> dict[str, Any]:
    """A presigned POST for a large file under the tenant's inbox (the upload endpoint)."""
    require_tenant(tenant)
    if "/" in name or ".." in name or not name:
        raise ValidationError("file name must be a plain name", field="name")
    return store.inbox_post(inbox_key(tenant, name), max_bytes=max_bytes)


def handle_notification(body: dict[str, Any]) -> list[dict[str, Any]]:
    """One message of the cdr-files queue: an S3 notification (new inbox
    objects) or a part of a split file. Returns what was done, per object."""
    if "cdrPart" in body:
        return [ingest.ingest_part(**body["cdrPart"])]
    if body.get("Event") == "s3:TestEvent":
        return []  # S3 sends it once when the notification is configured
    done = []
    for record in body.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        key = unquote_plus(record["s3"]["object"]["key"])
        done.append(ingest_inbox_object(key=key))
    return done


def ingest_inbox_object(*, key: str) -> dict[str, Any]:
    """A landed object: small ones are processed here, big plain ones split into
    byte ranges published back to the queue (each part is one message)."""
    pieces = key.split("/")
    if len(pieces) < 3 or pieces[0] + "/" != INBOX_PREFIX or not pieces[-1]:
        return {"key": key, "ignored": "not under cdr-inbox/<tenant>/"}
    tenant = pieces[1]
    if identity.get_tenant(tenant) is None:
        return {"key": key, "ignored": "unknown tenant"}
    head = store.landed_head(key)
    if head is None:
        return {"key": key, "ignored": "already processed and removed"}
    # An uploaded file is processed under the id of the request that granted its upload.
    with correlation.continued(store.correlation_of(head)):
        done = _ingest_landed(key, tenant, pieces[-1], head)
        _log.info("CDR file %s taken in", key, extra={"outcome": {k: v for k, v in done.items() if k != "errors"}})
        return done


def _ingest_landed(key: str, tenant: str, name: str, head: Mapping[str, Any]) -> dict[str, Any]:
    file_id = "etag-" + str(head.get("ETag", "")).strip('"')
    size = int(head.get("ContentLength", 0))
    first = store.landed_stream(key, "bytes=0-65535").read()
    compressed = cdr_plain.is_compressed(first)
    split = ingest.SPLIT_BYTES
    parts = 1 if compressed or size <= split else -(-size // split)
    if not store.create_file(tenant, file_id, {"name": key, "stamp": stamp(), "parts": parts, "size": size}):
        record = store.get_file(tenant, file_id) or {}
        if record.get("status") == "done":
            if record.get("name") != key:  # the same bytes under another name: a repeat
                store.put_upload(tenant, name, file_id, repeated=True)
            store.delete_landed(key)
            return {"key": key, "file": file_id, "repeated": True}
        # A redelivery of a file in progress: redo its fan-out (a restaged file restages).
        parts = 1 if record.get("staged") else int(record.get("parts", parts))
    store.put_upload(tenant, name, file_id, repeated=False)
    if parts == 1:
        return ingest.ingest_part(tenant=tenant, key=key, file_id=file_id, part=0, parts=1, start=0, end=size,
                                  compressed=compressed)
    header = first.split(b"\n", 1)[0] + b"\n"
    messages: list[Mapping[str, Any]] = [
        {"cdrPart": {"tenant": tenant, "key": key, "file_id": file_id, "part": n, "parts": parts, "start": n * split,
                     "end": min(size, (n + 1) * split), "size": size, "header": header.decode("utf-8")}}
        for n in range(parts)]
    queues.publish_batch("cdr_files", messages)
    return {"key": key, "file": file_id, "parts": parts}
