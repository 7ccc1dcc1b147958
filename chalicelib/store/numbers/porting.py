"""Porting in the main table: the tenant's portability table and port orders.

  T#<t>#PORTABILITY / <number>    may the number be ported in, why not, from whom, after how many days
  T#<t>#PORTORDER / <id>          a port order (generic entity, store/dynamo/schema.py;
                                  ByParent under its customer)

A completed port order puts its numbers in the inventory as the customer's
active numbers in the same transaction as its own update.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from chalicelib import settings
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.store.numbers import owned as owned_numbers
from chalicelib.store.dynamo import entities, keys
from chalicelib.store.dynamo.entities import Page
from chalicelib.store.dynamo.schema import NUMBER_IDS, PORT_ORDER
from chalicelib.store.dynamo.table import MAX_TRANSACTION_ITEMS, Transaction, batch_get, batch_put
from chalicelib.store import pending_files


def _table() -> str:
    return settings.main_table()


def put_portability(tenant: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Load or replace rows (``number``, ``portable``, ``reason``,
    ``losingCarrier``, ``minPortDays``): a re-run writes the same items."""
    batch_put(_table(), [{**keys.portability_key(tenant, row["number"]), **row} for row in rows])


def portability(tenant: str, wanted: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The portability rows of these numbers, by number (one BatchGet)."""
    found = batch_get(_table(), [keys.portability_key(tenant, n) for n in wanted])
    return {item["number"]: entities.public(item) for item in found}


def allocate_id(tenant: str) -> int:
    return entities.allocate_ids(tenant, PORT_ORDER.kind)[0]


def create(tenant: str, fields: Mapping[str, Any], *, order_id: int, files: Sequence[str] = ()) -> dict[str, Any]:
    """The order, and in the same transaction the settling of its documents
    (``files``, put with the pending tag by the caller): store/pending_files.py."""
    also = Transaction()
    for key in files:
        pending_files.add(also, tenant, key, tagged=True)
    return entities.create(PORT_ORDER, tenant, fields, entity_id=order_id, also=also)


def settle_files(tenant: str, files: Sequence[str]) -> None:
    """After ``create``: its documents to their place (left to the schedule on failure)."""
    for key in files:
        pending_files.settle_or_leave(tenant, key, tagged=True)


def get(tenant: str, order_id: int) -> dict[str, Any] | None:
    return entities.get_one(PORT_ORDER, tenant, order_id)


def orders_of(tenant: str, customer_id: int, *, limit: int = 1000) -> list[dict[str, Any]]:
    return entities.list_page(PORT_ORDER, tenant, Page(limit=limit), parent_id=customer_id)


def update(tenant: str, order: Mapping[str, Any], changes: Mapping[str, Any], *, port_in: bool = False,
           stamp: str = "") -> dict[str, Any]:
    """``changes`` applied if the port order is still as read. ``port_in``:
    in the same transaction its numbers enter the inventory as the
    customer's active numbers, created at ``stamp`` (ConcurrentUpdateError
    naming a number the inventory already has; then nothing is written)."""
    also = Transaction()
    if port_in:
        ported = list(order["numbers"])
        ids = entities.allocate_ids(tenant, NUMBER_IDS, len(ported))
        # The id lookup items go in the same transaction when they fit (with the
        # numbers and the order's update, 100 actions); a larger port writes them
        # first: a lookup whose number never appears is ignored by readers.
        lookups_inside = 2 * len(ported) + 1 <= MAX_TRANSACTION_ITEMS
        if not lookups_inside:
            owned_numbers.put_id_items(tenant, list(zip(ids, ported)))
        for number, number_id in zip(ported, ids):
            owned_numbers.add_ported_in(also, tenant, number, number_id=number_id, category=order["category"],
                                  customer_id=order["customerId"], port_order_id=order["id"], stamp=stamp,
                                  with_id_item=lookups_inside,
                                  failure=ConcurrentUpdateError(f"{number} is already in this carrier's inventory"))
    return entities.update(PORT_ORDER, tenant, order, changes, also=also)
