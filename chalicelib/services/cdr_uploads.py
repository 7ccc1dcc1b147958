"""Large CDR files uploaded straight to S3 (docs/cdrs.md, "Ingestion paths").

The caller gets a presigned POST for one object under the tenant's CDR
inbox; S3 enforces the size limit, and the object's arrival notifies the
cdr-files queue like any file a switch drops there. Dialtone never proxies
the bytes (a Lambda request body is at most 6 MB).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import settings
from chalicelib.domain import files
from chalicelib.domain.errors import PermissionDeniedError
from chalicelib.domain.identity import ACCESS_ALL, Principal


def upload_url(*, principal: Principal, file_name: str | None) -> dict[str, Any]:
    """A presigned POST for one CDR file of the caller's tenant."""
    principal.require_write()
    # A CDR file holds calls of any of the tenant's customers and moves their
    # figures and balances: only a user who may see all of them may send one.
    if principal.customer_access != ACCESS_ALL:
        raise PermissionDeniedError("only users with access to all of the tenant's customers may upload CDR files")
    name = files.plain_file_name(file_name, field="filename")
    # Unique per upload: a second file under a name whose first upload is not
    # processed yet would otherwise replace it before it was read.
    stored = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}-{name}"
    from chalicelib.services import audit, cdrs

    max_bytes = settings.cdr_upload_max_bytes()
    expires = datetime.now(timezone.utc) + timedelta(seconds=settings.presign_seconds())
    post = cdrs.inbox_upload_url(tenant=principal.tenant_id, name=stored, max_bytes=max_bytes)
    audit.touch("cdrUpload", stored)
    return {"url": post["url"], "fields": post["fields"], "name": stored, "key": post["fields"]["key"],
            "maxBytes": max_bytes, "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}
