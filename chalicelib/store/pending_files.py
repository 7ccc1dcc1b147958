"""The second half of storing a client's file, recorded in the first half's
transaction so a crash between the two cannot lose it.

An upload PUTs its object either in place with the pending tag
(``blobs.put(tagged=True)``: every upload through the API) or under
``pending/`` (a presigned POST); the bucket's lifecycle rules expire both
after a day (infra/resources.json). Then it commits its record, and in the
same transaction an item of this partition:

  T#<t>#PENDINGFILE / <key>   tagged: mark tenants/<t>/<key> recorded (its tag no longer expires it);
                              else: promote pending/tenants/<t>/<key> to tenants/<t>/<key>;
                              (neither when promote is false) then delete the ``drop`` keys

``settle`` does that work and deletes the item (a promoted file's pending
object last). The request settles its own file right after its commit; the
read path settles a file it finds missing; the ``settle_pending_files``
schedule (workers/pending_files.py) settles what a crashed request left,
well inside the lifecycle's day. Every step is idempotent, so any of them
may run twice or concurrently. docs/architecture.md ("Files: nothing
orphaned, nothing lost") walks through every crash point. Items written
before tags have no ``tagged`` and are promoted, as they were.
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


def add(tx: Transaction, tenant: str, key: str, *, drop: Sequence[str] = (), promote: bool = True,
        tagged: bool = False) -> Transaction:
    """Add to ``tx`` (the record's own transaction) the promotion of ``key``
    (``tagged``: PUT in place with the pending tag, to be marked recorded;
    else under pending/, to be copied) and the deletion of the ``drop`` keys
    (files the record no longer names). ``promote=False``: only drop
    (``key`` is then one of ``drop``). A dropped file's own promotion, if
    still recorded, is cancelled: the caller settles it first
    (``settle_if_pending``), so a settle already under way cannot copy it
    back after the drop."""
    item = {**_key(tenant, key), "promote": promote, "drop": list(drop)}
    if tagged:
        item["tagged"] = True
    tx.put(settings.main_table(), item)
    for dropped in drop:
        if dropped != key:  # one action per item in a transaction
            tx.delete(settings.main_table(), _key(tenant, dropped))
    return tx


def settle(tenant: str, key: str, *, drop: Sequence[str] = (), promote: bool = True, tagged: bool = False) -> None:
    """Finish what ``add`` recorded. Order: mark the object recorded (tagged)
    or copy it to the permanent key, delete the dropped files, forget the
    item, delete the pending object (copied only): a crash before the item
    goes leaves it for the next settle (marking, copying and deleting are
    repeatable), a crash after it leaves at most the pending object, which
    the lifecycle rule expires."""
    if promote:
        if tagged:
            in_place = blobs.mark_recorded(tenant, key)
        else:
            in_place = blobs.promote(tenant, key) or blobs.head(tenant, key) is not None
        if not in_place:
            # The lifecycle expired it before any settle ran, or its record dropped it meanwhile.
            _log.error("pending file %s of tenant %s is gone before it was promoted", key, tenant)
            raise FileNotFoundError(f"tenants/{tenant}/{key}")
    for dropped in drop:
        blobs.delete(tenant, dropped)
    ddb().delete_item(TableName=settings.main_table(), Key=to_item(_key(tenant, key)))
    if promote and not tagged:
        blobs.delete(tenant, key, pending=True)


def _settle_item(tenant: str, item: dict[str, Any]) -> None:
    settle(tenant, item["SK"], drop=item.get("drop") or (), promote=bool(item.get("promote", True)),
           tagged=bool(item.get("tagged", False)))


def settle_or_leave(tenant: str, key: str, *, drop: Sequence[str] = (), promote: bool = True,
                    tagged: bool = False) -> bool:
    """``settle`` right after the record's commit, by the request that made
    it. The record is written, so a failure must not fail the request: the
    item stays and the read path or the schedule settles it. False then."""
    try:
        settle(tenant, key, drop=drop, promote=promote, tagged=tagged)
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
    _settle_item(tenant, item)
    return True


def settle_all(tenant: str) -> int:
    """Settle every pending file of the tenant; the count settled. One that
    cannot be settled is logged and left for the next run."""
    settled = 0
    for page in query_pages(settings.main_table(), key_condition="PK = :pk",
                            values={":pk": keys.pending_file_pk(tenant)}, consistent=True):
        for item in page:
            try:
                _settle_item(tenant, item)
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
