"""Note attachments in the main table: NOTE_ATTACHMENT and UPLOAD entities
(store/dynamo/schema.py), written with the tenant's storage usage
(store/blobs.py) in one transaction, so usage and files never disagree.

  T#<t>#NOTEATTACHMENT / <id>     an attachment (generic entity; ByParent under its note)
  T#<t>#UPLOAD / <id>             a presigned upload not yet finished (expiresAt: TTL)
  T#<t>#USAGE / STORAGE           bytes of stored files (conditional on the quota when it grows)
  T#<t>#PENDINGFILE / files/<id>  the new file not yet settled (store/pending_files.py)
The files themselves are S3 objects ``files/<stored file id>`` (store/blobs.py),
PUT in place with the pending tag (presigned uploads: under ``pending/``) and
settled once the record that names them is committed (``settle``).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib import settings
from chalicelib.domain.errors import DialtoneError
from chalicelib.store import blobs, pending_files
from chalicelib.store.dynamo import entities, keys
from chalicelib.store.dynamo.entities import Page
from chalicelib.store.dynamo.schema import NOTE_ATTACHMENT, STORED_FILE_IDS, UPLOAD
from chalicelib.store.dynamo.table import Transaction


def object_key(stored_file_id: int) -> str:
    """The S3 key (under the tenant's prefix) of a stored file."""
    return f"files/{keys.pad(stored_file_id)}"


def allocate_id(tenant: str) -> int:
    return entities.allocate_ids(tenant, NOTE_ATTACHMENT.kind)[0]


def allocate_stored_file_id(tenant: str) -> int:
    return entities.allocate_ids(tenant, STORED_FILE_IDS)[0]


def get(tenant: str, attachment_id: int) -> dict[str, Any] | None:
    return entities.get_one(NOTE_ATTACHMENT, tenant, attachment_id)


def list_page(tenant: str, page: Page, *, note_id: int | None = None) -> list[dict[str, Any]]:
    return entities.list_page(NOTE_ATTACHMENT, tenant, page, parent_id=note_id)


def of_notes(tenant: str, note_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    return entities.children_of(NOTE_ATTACHMENT, tenant, note_ids)


def _usage_change(tenant: str, added_bytes: int, over_quota: DialtoneError) -> Transaction:
    tx = Transaction()
    blobs.storage_usage_update(tx, tenant, added_bytes, settings.storage_quota_bytes(), over_quota)
    return tx


def _new_file(tx: Transaction, tenant: str, stored_file_id: int, replaced: int | None = None, *,
              tagged: bool = True) -> Transaction:
    """The file's settling (``tagged``: PUT in place with the pending tag;
    else a presigned upload under pending/) and the replaced file's
    deletion, committed with the record that names it."""
    drop = [object_key(replaced)] if replaced is not None else []
    return pending_files.add(tx, tenant, object_key(stored_file_id), drop=drop, tagged=tagged)


def settle(tenant: str, stored_file_id: int, replaced: int | None = None, *, tagged: bool = True) -> None:
    """Settle a committed file (mark it recorded, or promote it out of
    pending/: ``tagged`` as given to the record) and delete the one it replaced."""
    pending_files.settle(tenant, object_key(stored_file_id),
                         drop=[object_key(replaced)] if replaced is not None else [], tagged=tagged)


def settle_if_pending(tenant: str, stored_file_id: int) -> bool:
    """The read path's part: settle the file if a crash left it pending."""
    return pending_files.settle_if_pending(tenant, object_key(stored_file_id))


def create(tenant: str, fields: Mapping[str, Any], *, attachment_id: int | None = None,
           over_quota: DialtoneError) -> dict[str, Any]:
    """A new attachment, its ``fileSize`` added to the tenant's usage and its
    file's promotion recorded in the same transaction (``over_quota`` if the
    usage would pass the quota)."""
    tx = _new_file(_usage_change(tenant, int(fields["fileSize"]), over_quota), tenant, int(fields["storedFileId"]))
    return entities.create(NOTE_ATTACHMENT, tenant, fields, entity_id=attachment_id, also=tx)


def update(tenant: str, current: Mapping[str, Any], changes: Mapping[str, Any], *,
           over_quota: DialtoneError) -> dict[str, Any]:
    """``changes`` applied if the attachment is still as read; a new file
    (``fileSize`` among the changes) changes the usage by the difference in
    the same transaction, which records the new file's promotion and the old
    one's deletion too."""
    also = None
    if "storedFileId" in changes:
        added = int(changes.get("fileSize", current["fileSize"])) - int(current["fileSize"])
        also = _new_file(_usage_change(tenant, added, over_quota), tenant, int(changes["storedFileId"]),
                         replaced=int(current["storedFileId"]))
    return entities.update(NOTE_ATTACHMENT, tenant, current, changes, also=also)


def create_upload(tenant: str, fields: Mapping[str, Any], *, expires_at: int) -> dict[str, Any]:
    """An upload the table's TTL deletes at ``expires_at`` (epoch seconds) if it is never finished."""
    return entities.create(UPLOAD, tenant, {**fields, "expiresAt": expires_at})


def get_upload(tenant: str, upload_id: int) -> dict[str, Any] | None:
    return entities.get_one(UPLOAD, tenant, upload_id)


def finish_upload(tenant: str, upload_id: int, fields: Mapping[str, Any], *, over_quota: DialtoneError,
                  already_finished: DialtoneError) -> dict[str, Any]:
    """The upload becomes an attachment of ``fields``: one transaction
    deletes the upload (``already_finished`` if someone else did), creates
    the attachment, adds its size to the usage and records its file's promotion
    out of pending/ (where the presigned POST put it)."""
    tx = _new_file(_usage_change(tenant, int(fields["fileSize"]), over_quota), tenant, int(fields["storedFileId"]),
                   tagged=False)
    tx.delete(settings.main_table(), {"PK": keys.entity_pk(tenant, UPLOAD.kind), "SK": keys.pad(upload_id)},
              condition="attribute_exists(PK)", failure=already_finished)
    return entities.create(NOTE_ATTACHMENT, tenant, fields, also=tx)
