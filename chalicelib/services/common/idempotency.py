"""Idempotency-Key: a retried POST returns the first answer; the same key
with a different request is refused. Keyed per tenant, kept 24 hours."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Mapping

from chalicelib.domain.errors import IdempotencyKeyReusedError, ValidationError
from chalicelib.store import idempotency as store

MAX_KEY_LENGTH = 255


def fingerprint(path: str, params: Mapping[str, Any], extra: bytes = b"") -> str:
    digest = hashlib.sha256(path.encode())
    digest.update(json.dumps(sorted(params.items()), default=str).encode())
    digest.update(extra)
    return digest.hexdigest()


def run_once(*, tenant: str, key: str, request_fingerprint: str,
             handler: Callable[[], tuple[int, str]]) -> tuple[int, str]:
    """(status, body) of the first run of this key. Only successful answers
    are kept: a failed request may be retried with the same key."""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError("Invalid Idempotency-Key", field="Idempotency-Key")
    held = store.begin(tenant, key, request_fingerprint)
    if held is not None:
        if held.get("fingerprint") != request_fingerprint:
            raise IdempotencyKeyReusedError("Idempotency-Key was used with a different request",
                                            field="Idempotency-Key")
        if held.get("state") != store.DONE:
            raise IdempotencyKeyReusedError("a request with this Idempotency-Key is still running",
                                            field="Idempotency-Key")
        return int(held["status"]), held["body"]
    try:
        status, body = handler()
    except BaseException:
        store.abandon(tenant, key)
        raise
    if status < 300:
        store.finish(tenant, key, request_fingerprint, status, body)
    else:
        store.abandon(tenant, key)
    return status, body
