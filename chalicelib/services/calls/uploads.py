"""Large CDR files uploaded straight to S3 (docs/cdrs.md, "Ingestion paths").

The caller gets a presigned POST for one object under the tenant's CDR
inbox; S3 enforces the size limit, and the object's arrival notifies the
cdr-files queue like any file a switch drops there. Dialtone never proxies
the bytes (a Lambda request body is at most 6 MB). ``upload_status`` then
tells the caller what became of the file, by the name the grant gave it.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from chalicelib import clock, settings
from chalicelib.domain.common import files
from chalicelib.domain.errors import NotFoundError, PermissionDeniedError
from chalicelib.domain.identity import ACCESS_ALL, Principal
from chalicelib.services.calls import inbox
from chalicelib.services.calls.inbox import inbox_key
from chalicelib.services.common import audit
from chalicelib.store import calls as store


# The stored name is "<UTC stamp>-<8 hex>-<the caller's name>".
STORED_PREFIX_LENGTH = len("20260601T100000Z-1a2b3c4d-")


def _require_tenant_wide(principal: Principal) -> None:
    # A CDR file holds calls of any of the tenant's customers and moves their
    # figures and balances: only a user who may see all of them may send one
    # or read what became of it.
    if principal.customer_access != ACCESS_ALL:
        raise PermissionDeniedError("only users with access to all of the tenant's customers may upload CDR files")


def upload_url(*, principal: Principal, file_name: str | None) -> dict[str, Any]:
    """A presigned POST for one CDR file of the caller's tenant."""
    principal.require_write()
    _require_tenant_wide(principal)
    name = files.plain_file_name(file_name, field="filename")
    # Unique per upload: a second file under a name whose first upload is not
    # processed yet would otherwise replace it before it was read.
    stored = f"{clock.now():%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}-{name}"

    max_bytes = settings.cdr_upload_max_bytes()
    expires = clock.now() + timedelta(seconds=settings.presign_seconds())
    post = inbox.inbox_upload_url(tenant=principal.tenant_id, name=stored, max_bytes=max_bytes)
    audit.touch("cdrUpload", stored)
    return {"url": post["url"], "fields": post["fields"], "name": stored, "key": post["fields"]["key"],
            "maxBytes": max_bytes, "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}


def upload_status(*, principal: Principal, file_name: str | None) -> dict[str, Any]:
    """What became of an uploaded file, by the name ``upload_url`` gave it:
    ``pending`` (in the inbox, not picked up yet), ``processing``, ``done``
    with the file's summary (counts, first refused rows with their lines and
    reasons), or ``repeated`` (the same bytes were ingested before)."""
    _require_tenant_wide(principal)
    name = files.plain_file_name(file_name, field="filename", max_length=files.PLAIN_NAME_MAX + STORED_PREFIX_LENGTH)

    tenant = principal.tenant_id
    upload = store.get_upload(tenant, name)
    if upload is None:
        if store.landed_head(inbox_key(tenant, name)) is None:
            raise NotFoundError("no CDR file was uploaded under this name", field="filename")
        return {"state": "pending"}
    if upload.get("repeated"):
        return {"state": "repeated"}
    record = store.get_file(tenant, str(upload["fileId"])) or {}
    if record.get("status") != "done":
        return {"state": "processing"}
    return {"state": "done", "summary": record.get("summary", {})}
