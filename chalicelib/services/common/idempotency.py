"""Idempotency-Key: a retried POST returns the first answer; the same key
with a different request is refused. Keyed per tenant, kept 24 hours."""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Callable, Mapping

from chalicelib.domain.errors import IdempotencyKeyReusedError, ValidationError
from chalicelib.store import idempotency as store

MAX_KEY_LENGTH = 255
_log = logging.getLogger(__name__)


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
    # The request has run and its answer is known: the caller gets it even when
    # the record of it cannot be written (AWS busy past its retries). Answering
    # 503 instead would make the caller retry a request that took effect, and
    # that retry would run it again once the lock has passed.
    try:
        if status < 300:
            store.finish(tenant, key, request_fingerprint, status, body)
        else:
            store.abandon(tenant, key)
    except Exception:  # noqa: BLE001 - the lock (store.LOCK_SECONDS) still expires on its own
        _log.warning("Idempotency-Key record not updated after the request ran", exc_info=True)
    return status, body
