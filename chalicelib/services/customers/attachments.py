"""Note attachments: files in S3 under the tenant prefix, metadata in the
main table, usage counted against the tenant's storage quota.

Order of an upload: decode, decompress (bounded), hash and verify, while the
note's access check and the stored file's id (DynamoDB) run on other threads;
put the object with the pending tag (streamed as it decodes when size and
hash are announced, never before the access check passed); one transaction
writes the attachment, adds its size to the usage (conditional on the quota)
and records the file's settling; then the file is retagged recorded
(store/pending_files.py, which also says what a crash at each point leaves;
presigned uploads are copied out of pending/). A refused transaction deletes
the object.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from chalicelib import clock, settings
from chalicelib.domain.errors import (
    ConcurrentUpdateError, DialtoneError, FileHashMismatchError, FileSizeMismatchError, FileTooLargeError, NotFoundError,
    StorageQuotaExceededError, ValidationError,
)
from chalicelib.domain.common.files import Upload, detect_mime
from chalicelib.domain.identity import Principal
from chalicelib.services.common import audit
from chalicelib.services.customers import items as customer_items
from chalicelib.store.customers import attachments as store
from chalicelib.store import blobs
from chalicelib.store.dynamo.entities import Page

UPDATE_ATTEMPTS = 5
T = TypeVar("T")

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor


def _object_key(stored_file_id: int) -> str:
    return store.object_key(stored_file_id)


_log = logging.getLogger(__name__)


def _discard(tenant: str, stored_file_id: int) -> None:
    """Delete a file (PUT with the pending tag) no attachment will name,
    without hiding the error that got us here (if the delete fails too, the
    lifecycle rule expires it: its tag says pending)."""
    try:
        blobs.delete(tenant, _object_key(stored_file_id))
    except Exception:  # noqa: BLE001 - the caller re-raises the error that matters
        _log.warning("pending file %s of tenant %s left to the lifecycle rule", stored_file_id, tenant, exc_info=True)


def _settle(tenant: str, stored_file_id: int, replaced: int | None = None, *, pending_only: bool = False,
            tagged: bool = True) -> None:
    """Settle a committed file: retag it (``tagged``) or promote it out of
    pending/ (``pending_only``: if still recorded as pending, as recorded).
    Its record is written, so a failure here does not fail the request: the
    read path and the settle_pending_files schedule finish it."""
    try:
        if pending_only:
            store.settle_if_pending(tenant, stored_file_id)
        else:
            store.settle(tenant, stored_file_id, replaced, tagged=tagged)
    except Exception:  # noqa: BLE001 - committed: answered as written, settled later
        _log.warning("stored file %s of tenant %s left pending", stored_file_id, tenant, exc_info=True)


def _written(tenant: str, attachment_id: int) -> tuple[bool, dict[str, Any] | None]:
    """(known, the attachment record or None): known is False when AWS cannot tell us now."""
    try:
        return True, store.get(tenant, attachment_id)
    except Exception:  # noqa: BLE001 - unknown: the pending file stays (promoted if recorded, else expired)
        return False, None


def _quota_error() -> StorageQuotaExceededError:
    return StorageQuotaExceededError(
        f"storing this file would exceed the storage quota of {settings.storage_quota_bytes()} bytes")


def _store(principal: Principal, upload: Upload, file_name: str,
           meanwhile: Callable[[], None] | None = None,
           check: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Check the file and put it in S3; the stored-file fields of the attachment.

    ``check`` (the parent's access check) and the stored file's id are
    DynamoDB round trips that do not depend on the file: they run on other
    threads while the file decodes, and nothing goes to S3 before both are
    done. Their error comes first, as if they had run before the decoding.
    ``meanwhile`` runs once the file is verified, while S3 finishes storing it."""
    checked = _background(check) if check is not None else None
    stored_id = _background(lambda: store.allocate_stored_file_id(principal.tenant_id))

    def ready() -> int:
        from concurrent.futures import wait

        # Both done before any answer: nothing of the request runs on after it (a Lambda is frozen then).
        wait([f for f in (checked, stored_id) if f is not None])
        if checked is not None:
            checked.result()
        return stored_id.result()

    try:
        if (upload.expected_size is not None and upload.expected_hash is not None
                and 0 < upload.expected_size <= settings.max_file_bytes()):
            return _store_streamed(principal, upload, file_name, ready, meanwhile)
        received = upload.receive(limit=settings.max_file_bytes(), file_name=file_name)
    except BaseException:
        ready()  # the check's refusal, if any, is the answer
        raise
    if received.size > settings.storage_quota_bytes():
        ready()
        raise _quota_error()
    file_id = ready()
    assert received.content is not None  # receive() without streaming always buffers the file
    received.content.seek(0)  # the buffer itself goes to S3: no copy of the file
    try:
        blobs.put(principal.tenant_id, _object_key(file_id), received.content, content_type=received.mime_type,
                  metadata={"sha1": received.sha1}, sha1_hex=received.sha1, tagged=True)
        if meanwhile is not None:
            meanwhile()
    except Exception:
        # A PUT whose answer was lost (a timeout) may have stored the object all the same.
        _discard(principal.tenant_id, file_id)
        raise
    return {"storedFileId": file_id, "fileSize": received.size, "fileHash": received.sha1,
            "mimeType": received.mime_type, "fileStoredAt": clock.now_iso()}


def _store_streamed(principal: Principal, upload: Upload, file_name: str, ready: Callable[[], int],
                    meanwhile: Callable[[], None] | None = None) -> dict[str, Any]:
    """The file's size and SHA-1 are announced: the object is PUT while the
    file is decoded (blobs.ObjectWriter), its last piece sent only once the
    whole file is verified; on any failure the PUT is abandoned before its
    last byte and nothing is stored. Decoding overlaps the upload instead of
    preceding it, and the decoded file is never held whole in memory.
    ``ready`` gives the stored file's id once the access check passed: the
    upload's thread waits for it (the first pieces queue meanwhile)."""
    assert upload.expected_size is not None and upload.expected_hash is not None
    if upload.expected_size > settings.storage_quota_bytes():
        raise _quota_error()
    writer: blobs.ObjectWriter | None = None

    def open_sink(mime_type: str) -> Callable[[bytes | memoryview], None]:
        nonlocal writer
        writer = blobs.ObjectWriter(principal.tenant_id, lambda: _object_key(ready()),
                                    size=upload.expected_size or 0, content_type=mime_type,
                                    sha1_hex=upload.expected_hash, metadata={"sha1": upload.expected_hash or ""},
                                    tagged=True)
        return writer.write

    try:
        received = upload.receive(limit=settings.max_file_bytes(), file_name=file_name, open_sink=open_sink)
        assert writer is not None
        if meanwhile is not None:
            meanwhile()  # S3 is still storing the last bytes: do the next request's reads now
        writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return {"storedFileId": ready(), "fileSize": received.size, "fileHash": received.sha1,
            "mimeType": received.mime_type, "fileStoredAt": clock.now_iso()}


_pool: "ThreadPoolExecutor | None" = None


def _background(work: Callable[[], T]) -> "Future[T]":
    """``work`` on a small shared pool, in a copy of this context (the audit
    record of the request sees what it touches)."""
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    global _pool
    if _pool is None:
        # A few round trips per upload; the local API server runs requests side by side.
        _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="attachment")
    return _pool.submit(contextvars.copy_context().run, work)


def create(*, principal: Principal, note_id: int, fields: Mapping[str, Any], upload: Upload) -> dict[str, Any]:
    """A new attachment of the note, with its file."""
    from chalicelib.domain.customers.item_input import parse_write  # local: pydantic, for writes only

    principal.require_write()
    values = parse_write("noteAttachment", fields, creating=True)
    note: dict[str, Any] = {}

    def read_note() -> None:
        note.update(customer_items.get(principal=principal, resource=customer_items.NOTES, item_id=note_id))

    attachment_ids: list[int] = []
    stored = _store(principal, upload, values["fileName"], check=read_note, meanwhile=lambda: attachment_ids.append(
        store.allocate_id(principal.tenant_id)))
    try:
        record = store.create(principal.tenant_id,
                              {**values, **stored, "noteId": note_id, "customerId": note["customerId"],
                               "createdBy": principal.user_id}, attachment_id=attachment_ids[0],
                              over_quota=_quota_error())
    except DialtoneError:  # refused (quota, the note gone): nothing names the file
        _discard(principal.tenant_id, stored["storedFileId"])
        raise
    except Exception:
        # AWS did not answer: the record may have been written all the same
        # (a timeout after the commit). Deleting the file then would leave an
        # attachment without its file; keep it, and answer with the record if it is there.
        known, found = _written(principal.tenant_id, attachment_ids[0])
        if found is None:
            if known:
                _discard(principal.tenant_id, stored["storedFileId"])
            raise
        record = found
    _settle(principal.tenant_id, stored["storedFileId"])
    audit.touch("noteAttachment", record["id"])
    return record


def get(*, principal: Principal, attachment_id: int) -> dict[str, Any]:
    principal.require_read()
    record = store.get(principal.tenant_id, attachment_id)
    if record is None:
        raise NotFoundError(f"noteAttachment {attachment_id} not found")
    try:
        customer_items.check_customer(principal, record["customerId"])
    except NotFoundError:
        raise NotFoundError(f"noteAttachment {attachment_id} not found") from None
    audit.touch("noteAttachment", attachment_id)
    return record


def list_attachments(*, principal: Principal, page: Page, note_id: int | None = None) -> list[dict[str, Any]]:
    principal.require_read()
    where = None
    if note_id is not None:
        customer_items.get(principal=principal, resource=customer_items.NOTES, item_id=note_id)
    else:
        visible = customer_items.visible_customer_ids(principal)
        if visible is not None:
            where = lambda r: r.get("customerId") in visible  # noqa: E731
    page = Page(id_after=page.id_after, limit=page.limit, offset=page.offset, updated_since=page.updated_since,
                where=where)
    found = store.list_page(principal.tenant_id, page, note_id=note_id)
    for record in found:
        audit.touch("noteAttachment", record["id"])
    return found


def of_notes(*, principal: Principal, note_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Attachments of notes the caller has already read (expansion, one Query)."""
    principal.require_read()
    return store.of_notes(principal.tenant_id, note_ids)


def update(*, principal: Principal, attachment_id: int, fields: Mapping[str, Any],
           upload: Upload | None) -> tuple[dict[str, Any], bool]:
    """Change description / file name and, with an upload, replace the file.
    The old object is deleted only after the new one is committed (its
    deletion is recorded with the change: store.update)."""
    from chalicelib.domain.customers.item_input import parse_write  # local: pydantic, for writes only

    principal.require_write()
    values = parse_write("noteAttachment", fields, creating=False)
    current = get(principal=principal, attachment_id=attachment_id)
    stored: dict[str, Any] = {}
    if upload is not None:
        # The file being replaced may still be unsettled (a crashed upload):
        # settle it now, so no settle of it (a presigned upload's copy out of
        # pending/) can run after its deletion and put it back.
        store.settle_if_pending(principal.tenant_id, current["storedFileId"])
        stored = _store(principal, upload, values.get("fileName") or current["fileName"])
        if stored["fileHash"] == current.get("fileHash") and stored["fileSize"] == current.get("fileSize") \
                and (upload.mime_type is None or upload.mime_type == current.get("mimeType")):
            # The same bytes again: keep the stored file, write nothing for it.
            _discard(principal.tenant_id, stored["storedFileId"])
            stored = {}
    try:
        for _ in range(UPDATE_ATTEMPTS):
            effective = {k: v for k, v in {**values, **stored}.items() if current.get(k) != v}
            if not effective:
                if stored and current.get("storedFileId") == stored["storedFileId"]:
                    # Ours, committed by an attempt whose answer was lost: finish its file.
                    _settle(principal.tenant_id, stored["storedFileId"], pending_only=True)
                return current, False
            try:
                # A new file (a new storedFileId) changes the usage in the same transaction.
                record = store.update(principal.tenant_id, current, effective, over_quota=_quota_error())
                break
            except ConcurrentUpdateError:
                current = get(principal=principal, attachment_id=attachment_id)
        else:
            raise ConcurrentUpdateError(f"noteAttachment {attachment_id} is being changed by others; try again")
    except DialtoneError:
        # Refused: no record names the new file. (Any other failure may
        # follow a commit: the tagged file stays, marked recorded if it was
        # recorded, expired by the lifecycle rule if not.)
        if stored and current.get("storedFileId") != stored["storedFileId"]:
            _discard(principal.tenant_id, stored["storedFileId"])
        raise
    if stored and current.get("storedFileId") != record["storedFileId"]:
        _settle(principal.tenant_id, record["storedFileId"], replaced=current["storedFileId"])
    return record, True


@dataclass(frozen=True)
class Download:
    record: dict[str, Any]
    content: bytes | None  # the bytes, or None when ``url`` must be used
    url: str | None


def download(*, principal: Principal, attachment_id: int) -> Download:
    """The file: inline when small enough for a Lambda response, else a presigned URL."""
    record = get(principal=principal, attachment_id=attachment_id)
    key = _object_key(record["storedFileId"])
    if record["fileSize"] <= settings.inline_download_bytes():
        content = blobs.get_if_present(principal.tenant_id, key)
        if content is None and store.settle_if_pending(principal.tenant_id, record["storedFileId"]):
            content = blobs.get_if_present(principal.tenant_id, key)  # a crash left a presigned upload under pending/
        if content is None:
            raise NotFoundError(f"the file of noteAttachment {attachment_id} is missing")
        return Download(record, content, None)
    # A link cannot fall back: one GetItem makes sure a crash left nothing pending.
    store.settle_if_pending(principal.tenant_id, record["storedFileId"])
    return Download(record, None, blobs.presigned_download(principal.tenant_id, key, filename=record["fileName"]))


# Presigned uploads, for files larger than API Gateway accepts (10 MB).

def start_upload(*, principal: Principal, note_id: int, fields: Mapping[str, Any], expected_size: int,
                 expected_hash: str, mime_type: str | None) -> dict[str, Any]:
    """Reserve a stored-file id and hand out a presigned POST limited to the
    announced size; ``finish_upload`` verifies and commits it."""
    from chalicelib.domain.customers.item_input import parse_write  # local: pydantic, for writes only

    principal.require_write()
    values = parse_write("noteAttachment", fields, creating=True)
    note = customer_items.get(principal=principal, resource=customer_items.NOTES, item_id=note_id)
    if expected_size > settings.max_file_bytes():
        raise FileTooLargeError(f"_fileSize exceeds the {settings.max_file_bytes()}-byte limit", field="_fileSize")
    if expected_size > settings.storage_quota_bytes() - blobs.storage_used(principal.tenant_id):
        raise _quota_error()
    stored_id = store.allocate_stored_file_id(principal.tenant_id)
    mime = mime_type or detect_mime(b"", values["fileName"])
    record = store.create_upload(principal.tenant_id, {
        **values, "noteId": note_id, "customerId": note["customerId"], "storedFileId": stored_id,
        "fileSize": expected_size, "fileHash": expected_hash, "mimeType": mime, "createdBy": principal.user_id,
    }, expires_at=clock.epoch() + settings.presign_seconds() + 3600)
    post = blobs.presigned_upload(principal.tenant_id, _object_key(stored_id), content_type=mime,
                                  max_bytes=expected_size)
    return {"uploadID": record["id"], "url": post["url"], "fields": post["fields"],
            "expiresIn": settings.presign_seconds()}


def finish_upload(*, principal: Principal, upload_id: int) -> dict[str, Any]:
    """Verify the uploaded object (size, SHA-1, streamed) and create the
    attachment, which records the object's promotion out of pending/; on a
    failed check or a refused record the object is deleted."""
    import hashlib

    principal.require_write()
    pending = store.get_upload(principal.tenant_id, upload_id)
    if pending is None or pending.get("createdBy") != principal.user_id:
        raise NotFoundError(f"upload {upload_id} not found")
    key = _object_key(pending["storedFileId"])
    head = blobs.head(principal.tenant_id, key, pending=True)
    if head is None:
        raise ValidationError("nothing has been uploaded to the presigned URL yet", field="uploadID")
    try:
        if int(head["ContentLength"]) != pending["fileSize"]:
            raise FileSizeMismatchError(f"received {head['ContentLength']} bytes but _fileSize is "
                                        f"{pending['fileSize']}", field="_fileSize")
        digest = hashlib.sha1()
        stream = blobs.open_stream(principal.tenant_id, key, pending=True)
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
        if digest.hexdigest() != pending["fileHash"]:
            raise FileHashMismatchError("SHA-1 of the uploaded file differs from _fileHash", field="_fileHash")
        fields: dict[str, Any] = {k: pending[k] for k in ("fileName", "description", "noteId", "customerId", "storedFileId",
                                          "fileSize", "fileHash", "mimeType", "createdBy") if k in pending}
        record = store.finish_upload(principal.tenant_id, upload_id, {**fields, "fileStoredAt": clock.now_iso()},
                                     over_quota=_quota_error(),
                                     already_finished=NotFoundError(f"upload {upload_id} was already completed"))
    except NotFoundError:
        # Completed meanwhile by a concurrent request: the pending object is
        # its attachment's (same key, same verified bytes), settled by it.
        raise
    except DialtoneError:
        blobs.delete(principal.tenant_id, key, pending=True)
        raise
    # Any other failure may follow a commit: the pending object stays,
    # promoted if its attachment was recorded, else expired by the lifecycle rule.
    _settle(principal.tenant_id, pending["storedFileId"], tagged=False)
    audit.touch("noteAttachment", record["id"])
    return record
