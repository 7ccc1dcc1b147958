"""Captured e-mail: where adapters/mail.py's CaptureSender keeps each message
(the local runtime and tests), for the admin CLI to list.

  T#<t>#MAIL / <sentAt>#<id>    id, to, subject, body, sentAt, expiresAt (TTL)
"""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib import settings
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import ddb, query_pages


def put(tenant: str, message: Mapping[str, Any], *, expires_at: int) -> None:
    """Keep ``message`` (with its ``id`` and ``sentAt``) until ``expires_at`` (epoch seconds)."""
    item = {"PK": keys.mail_pk(tenant), "SK": f"{message['sentAt']}#{message['id']}", **message,
            "expiresAt": expires_at}
    ddb().put_item(TableName=settings.main_table(), Item=to_item(item))


def newest(tenant: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` captured messages of the tenant, newest first."""
    found: list[dict[str, Any]] = []
    for page in query_pages(settings.main_table(), key_condition="PK = :pk", values={":pk": keys.mail_pk(tenant)},
                            forward=False, page_size=limit):
        found.extend({k: v for k, v in i.items() if k not in ("PK", "SK", "expiresAt")} for i in page)
        if len(found) >= limit:
            break
    return found[:limit]
