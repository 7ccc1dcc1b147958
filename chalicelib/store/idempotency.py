"""Idempotency records: one conditional write decides whether a request with
an Idempotency-Key runs, and the first answer is kept for the retries.

Record T#<t>#IDEM / <key>: the request's fingerprint, ``state`` (running or
done), the stored answer, ``lockUntil`` and the TTL ``expiresAt`` (epoch s).
"""
from __future__ import annotations

from typing import Any

from chalicelib import clock, settings
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.table import Transaction, execute_reporting, get

RUNNING = "running"
DONE = "done"
KEEP_SECONDS = 24 * 3600
LOCK_SECONDS = 60


def begin(tenant: str, key: str, fingerprint: str) -> dict[str, Any] | None:
    """Claim the key for this request. None: go ahead. Otherwise the record
    that holds it (done with an answer, or still running)."""
    now = clock.epoch()
    item = {**keys.idempotency_key(tenant, key), "fingerprint": fingerprint, "state": RUNNING,
            "lockUntil": now + LOCK_SECONDS, "expiresAt": now + KEEP_SECONDS}
    tx = Transaction().put(
        settings.main_table(), item,
        condition="attribute_not_exists(PK) OR expiresAt < :now OR (#s = :running AND lockUntil < :now)",
        names={"#s": "state"}, values={":now": now, ":running": RUNNING})
    if not execute_reporting(tx):
        return None
    return get(settings.main_table(), keys.idempotency_key(tenant, key)) or {}


def finish(tenant: str, key: str, fingerprint: str, status: int, body: str) -> None:
    now = clock.epoch()
    Transaction().put(settings.main_table(), {
        **keys.idempotency_key(tenant, key), "fingerprint": fingerprint, "state": DONE,
        "status": status, "body": body, "expiresAt": now + KEEP_SECONDS}).execute()


def abandon(tenant: str, key: str) -> None:
    """The request failed: let a retry run it again."""
    Transaction().delete(settings.main_table(), keys.idempotency_key(tenant, key)).execute()
