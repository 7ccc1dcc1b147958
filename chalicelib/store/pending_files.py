"""The second half of storing a client's file, recorded in the first half's
transaction so a crash between the two cannot lose it.

An upload PUTs its object under ``pending/`` (the bucket's lifecycle rule
expires it after a day: infra/resources.json), then commits its record,
and in the same transaction an item of this partition:

  T#<t>#PENDINGFILE / <key>   promote pending/tenants/<t>/<key> to tenants/<t>/<key>
                              (unless promote is false), then delete the ``drop`` keys

``settle`` does that work and deletes the item, the pending object last.
The request settles its own file right after its commit; the read path
settles a file it finds missing; the ``settle_pending_files`` schedule
(workers/pending_files.py) settles what a crashed request left, well inside
the lifecycle's day. Every step is idempotent, so any of them may run twice
or concurrently. docs/architecture.md ("AWS faults and retries") walks
through every crash point.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

from chalicelib import settings
from chalicelib.store import blobs
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import Transaction, ddb, get, query_pages

_log = logging.getLogger(__name__)


def _key(tenant: str, key: str) -> dict[str, str]:
    return {"PK": keys.pending_file_pk(tenant), "SK": key}


def add(tx: Transaction, tenant: str, key: str, *, drop: Sequence[str] = (), promote: bool = True) -> Transaction:
    """Add to ``tx`` (the record's own transaction) the promotion of ``key``
    and the deletion of the ``drop`` keys (files the record no longer names).
    ``promote=False``: only drop (``key`` is then one of ``drop``). A dropped
    file's own promotion, if still recorded, is cancelled: the caller settles
    it first (``settle_if_pending``), so a settle already under way cannot
    copy it back after the drop."""
    tx.put(settings.main_table(), {**_key(tenant, key), "promote": promote, "drop": list(drop)})
    for dropped in drop:
        if dropped != key:  # one action per item in a transaction
            tx.delete(settings.main_table(), _key(tenant, dropped))
    return tx


def settle(tenant: str, key: str, *, drop: Sequence[str] = (), promote: bool = True) -> None:
    """Finish what ``add`` recorded. Order: copy to the permanent key, delete
    the dropped files, forget the item, delete the pending object: a crash
    before the item goes leaves it for the next settle (the copy and the
    deletes are repeatable), a crash after it leaves only the pending object,
    which the lifecycle rule expires."""
    if promote and not blobs.promote(tenant, key) and blobs.head(tenant, key) is None:
        # Neither pending nor in place: the lifecycle expired it before any settle ran.
        _log.error("pending file %s of tenant %s is gone before it was promoted", key, tenant)
        raise FileNotFoundError(f"tenants/{tenant}/{key}")
    for dropped in drop:
        blobs.delete(tenant, dropped)
    ddb().delete_item(TableName=settings.main_table(), Key=to_item(_key(tenant, key)))
    if promote:
        blobs.delete(tenant, key, pending=True)


def settle_or_leave(tenant: str, key: str, *, drop: Sequence[str] = (), promote: bool = True) -> bool:
    """``settle`` right after the record's commit, by the request that made
    it. The record is written, so a failure must not fail the request: the
    item stays and the read path or the schedule settles it. False then."""
    try:
        settle(tenant, key, drop=drop, promote=promote)
    except Exception:  # noqa: BLE001 - committed: answered as written, settled later
        _log.warning("file %s of tenant %s left pending", key, tenant, exc_info=True)
        return False
    return True


def settle_if_pending(tenant: str, key: str) -> bool:
    """Settle ``key`` if an item says it is pending (the read path, when the
    object is not in place); False when nothing was pending."""
    item = get(settings.main_table(), _key(tenant, key))
    if not item:
        return False
    settle(tenant, key, drop=item.get("drop") or (), promote=bool(item.get("promote", True)))
    return True


def settle_all(tenant: str) -> int:
    """Settle every pending file of the tenant; the count settled. One that
    cannot be settled is logged and left for the next run."""
    settled = 0
    for page in query_pages(settings.main_table(), key_condition="PK = :pk",
                            values={":pk": keys.pending_file_pk(tenant)}, consistent=True):
        for item in page:
            try:
                settle(tenant, item["SK"], drop=item.get("drop") or (), promote=bool(item.get("promote", True)))
                settled += 1
            except Exception:  # noqa: BLE001 - one file must not stop the others
                _log.exception("pending file %s of tenant %s not settled", item["SK"], tenant)
    return settled


def pending(tenant: str) -> list[dict[str, Any]]:
    """The tenant's unsettled items (tests and operators)."""
    found: list[dict[str, Any]] = []
    for page in query_pages(settings.main_table(), key_condition="PK = :pk",
                            values={":pk": keys.pending_file_pk(tenant)}, consistent=True):
        found.extend(page)
    return found
