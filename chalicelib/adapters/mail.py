"""Outgoing e-mail: SES on AWS, a capture on the local runtime and in tests.

``EMAIL_SENDER`` chooses per stage: ``ses`` (``EMAIL_FROM`` is the verified
sender) or ``capture``, which stores each message under the tenant for 7 days
(store/mail.py) so the admin CLI can list it
(``python -m chalicelib.admin list-emails --tenant T``).
"""
from __future__ import annotations

import os
import uuid
from typing import Any, Protocol

from chalicelib import clock
from chalicelib.store import mail as store
from chalicelib.store.clients import client

CAPTURE_DAYS = 7


class EmailSender(Protocol):
    def send(self, *, tenant: str, to: str, subject: str, body: str) -> str: ...


class SesSender:
    def send(self, *, tenant: str, to: str, subject: str, body: str) -> str:
        answer = client("ses").send_email(
            Source=os.environ.get("EMAIL_FROM", "no-reply@dialtone.invalid"),
            Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}},
        )
        return str(answer["MessageId"])


class CaptureSender:
    def send(self, *, tenant: str, to: str, subject: str, body: str) -> str:
        message_id = uuid.uuid4().hex
        store.put(tenant, {"id": message_id, "to": to, "subject": subject, "body": body, "sentAt": clock.now_iso()},
                  expires_at=clock.epoch() + CAPTURE_DAYS * 86400)
        return message_id


def sender() -> EmailSender:
    default = "capture" if os.environ.get("DIALTONE_STAGE", "local") in ("local", "test") else "ses"
    kind = os.environ.get("EMAIL_SENDER", default)
    if kind == "ses":
        return SesSender()
    if kind == "capture":
        return CaptureSender()
    raise RuntimeError(f"unknown EMAIL_SENDER '{kind}'")


def captured(tenant: str, limit: int = 100) -> list[dict[str, Any]]:
    """Captured messages of a tenant, newest first."""
    return store.newest(tenant, limit)


__all__ = ["EmailSender", "SesSender", "CaptureSender", "sender", "captured"]
