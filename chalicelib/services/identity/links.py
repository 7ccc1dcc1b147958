"""Signed, expiring, single-use links: e-mail confirmation, login URL, password reset.

A token is ``<payload>.<HMAC-SHA256>``: the payload names the purpose, tenant,
customer and expiry, signed with the stage's ``LINK_SIGNING_SECRET``, so a
forged or altered token is refused without a read. Single use comes from the
store: the token's hash is an item consumed by one conditional delete.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain.errors import LinkInvalidError
from chalicelib.store.identity import tokens
from chalicelib.adapters import parameters

CONFIRM_EMAIL, LOGIN, RESET_PASSWORD = "confirm-email", "login", "reset-password"
TTL_SECONDS = {CONFIRM_EMAIL: 3 * 86400, LOGIN: 300, RESET_PASSWORD: 3600}
SESSION_SECONDS = 12 * 3600


def _secret() -> bytes:
    # Deployed stages read it from SSM Parameter Store at first use (adapters/parameters.py).
    secret = parameters.secret("LINK_SIGNING_SECRET")
    if not secret:
        if os.environ.get("DIALTONE_STAGE", "local") in ("local", "test"):
            secret = "dialtone-local-link-secret"
        else:
            raise RuntimeError("LINK_SIGNING_SECRET (or LINK_SIGNING_SECRET_PARAMETER) is required on deployed stages")
    return secret.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issue(*, purpose: str, tenant: str, customer_id: int, user_id: int) -> str:
    ttl = TTL_SECONDS[purpose]
    payload = {"p": purpose, "t": tenant, "c": customer_id, "u": user_id, "x": clock.epoch() + ttl,
               "n": secrets.token_urlsafe(16)}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    token = f"{body}.{_b64(hmac.new(_secret(), body.encode('ascii'), hashlib.sha256).digest())}"
    tokens.put("TOKEN", token, {"purpose": purpose, "tenantId": tenant, "customerId": customer_id,
                                "userId": user_id}, ttl_seconds=ttl)
    return token


def _checked(token: str | None, purpose: str, tenant: str | None) -> None:
    """Signature, purpose, expiry and tenant, without a read; LinkInvalidError otherwise."""
    invalid = LinkInvalidError("the link is invalid, expired or already used", field="code")
    body, _, signature = (token or "").partition(".")
    expected = _b64(hmac.new(_secret(), body.encode("ascii", "replace"), hashlib.sha256).digest())
    # Bytes: compare_digest refuses str holding anything but ASCII, and a client may send anything.
    if not body or not hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode("ascii")):
        raise invalid
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise invalid from None
    if payload.get("p") != purpose or payload.get("x", 0) <= clock.epoch() or (tenant and payload.get("t") != tenant):
        raise invalid


def check(*, token: str | None, purpose: str) -> None:
    """Raise LinkInvalidError unless the link could be used now. Consumes
    nothing: opening a link (or a mail scanner fetching it) must not use it up."""
    _checked(token, purpose, None)
    if not tokens.usable("TOKEN", token or "", purpose):
        raise LinkInvalidError("the link is invalid, expired or already used", field="code")


def consume(*, token: str | None, purpose: str, tenant: str | None = None) -> dict[str, Any]:
    """The link's record, once. Expired, reused, forged or foreign links raise LinkInvalidError."""
    invalid = LinkInvalidError("the link is invalid, expired or already used", field="code")
    _checked(token, purpose, tenant)
    record = tokens.consume("TOKEN", token or "", purpose)
    if record is None:
        raise invalid
    return record


def new_session(*, tenant: str, customer_id: int, user_id: int) -> tuple[str, int]:
    session = "dts_" + secrets.token_urlsafe(32)
    tokens.put("SESSION", session, {"purpose": "session", "tenantId": tenant, "customerId": customer_id,
                                    "userId": user_id}, ttl_seconds=SESSION_SECONDS)
    return session, SESSION_SECONDS
