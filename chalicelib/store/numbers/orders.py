"""Number orders in the main table: ORDER entities (store/dynamo/schema.py),
the tenant's order pricing, and the transactions an order's life takes.

  T#<t>#ORDER / <id>                     an order (generic entity; ByParent under its customer)
  T#<t>#SETTINGS / ORDER_PRICING         per-order cost, tax rate, other charges, discount rate

An order is created in one transaction with its cart's move to ``ordered``
(store/carts.py); its move to ``charged`` is written by the ledger's
transaction (``charged_writes``); a billing-API sale creates the (complete)
order with the number's move to active (``sale``).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping

from chalicelib import settings
from chalicelib.domain.errors import DialtoneError
from chalicelib.store.numbers import carts
from chalicelib.store.customers import accounts as customers
from chalicelib.store.numbers import owned as owned_numbers
from chalicelib.store.dynamo import entities, keys
from chalicelib.store.dynamo.entities import Page
from chalicelib.store.dynamo.schema import ORDER
from chalicelib.store.dynamo.table import Transaction, get

PRICING = "ORDER_PRICING"
PRICING_FIELDS = ("perOrderCost", "taxRate", "otherCharges", "discountRate")

# Writes a caller (the ledger) adds to its own transaction.
Writes = Callable[[Transaction], None]


def pricing(tenant: str) -> dict[str, Decimal]:
    """The tenant's order pricing; zero for what was never set."""
    item = get(settings.main_table(), keys.settings_key(tenant, PRICING), consistent=False) or {}
    return {k: Decimal(str(item.get(k, 0))) for k in PRICING_FIELDS}


def set_pricing(tenant: str, values: Mapping[str, Decimal]) -> None:
    Transaction().put(settings.main_table(), {**keys.settings_key(tenant, PRICING), **values}).execute()


def allocate_id(tenant: str) -> int:
    return entities.allocate_ids(tenant, ORDER.kind)[0]


def get_order(tenant: str, order_id: int) -> dict[str, Any] | None:
    return entities.get_one(ORDER, tenant, order_id)


def orders_of(tenant: str, customer_id: int, *, limit: int) -> list[dict[str, Any]]:
    return entities.list_page(ORDER, tenant, Page(limit=limit), parent_id=customer_id)


def create_from_cart(tenant: str, fields: Mapping[str, Any], *, cart: Mapping[str, Any], customer_id: int,
                     now: str, cart_gone: DialtoneError) -> dict[str, Any]:
    """A new order, in one transaction with its cart's move to ``ordered``;
    ``cart_gone`` when the cart is no longer the customer's open, unexpired,
    unchanged cart (then nothing is written)."""
    tx = Transaction()
    carts.add_ordered(tx, tenant, cart, customer_id=customer_id, now=now, failure=cart_gone)
    return entities.create(ORDER, tenant, fields, also=tx)


def update(tenant: str, order: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` applied if the order is still as read (ConcurrentUpdateError otherwise)."""
    return entities.update(ORDER, tenant, order, changes)


def charged_writes(tenant: str, order: Mapping[str, Any], changes: Mapping[str, Any]) -> Writes:
    """The order's update as writes for the ledger's transaction: the charge
    and the order's move commit together, conditional on the order's version."""

    def add(tx: Transaction) -> None:
        writes, _ = entities.update_transaction(ORDER, tenant, order, changes)
        tx.actions.extend(writes.actions)
        tx.failures.extend(writes.failures)

    return add


def sale(tenant: str, item: Mapping[str, Any], fields: Mapping[str, Any], *, order_id: int, number_id: int,
         stamp: str, unavailable: DialtoneError,
         customer_rule: tuple[customers.Condition, DialtoneError] | None = None) -> tuple[dict[str, Any], Writes]:
    """A one-number sale: the (complete) order record and the writes that
    make it (the order, the number's move from available to the customer's
    active numbers with its counters; ``unavailable`` when the number was
    taken meanwhile). ``customer_rule``: a condition the customer item must
    still meet, with the error when it does not."""
    customer_id = int(fields["customerId"])
    order, order_writes = entities.prepare_create(ORDER, tenant, fields, entity_id=order_id)

    def add(tx: Transaction) -> None:
        if customer_rule is not None:
            customers.add_condition_check(tx, tenant, customer_id, customer_rule[0], failure=customer_rule[1])
        owned_numbers.add_assignment(tx, tenant, item, customer_id=customer_id, order_id=order_id, number_id=number_id,
                               stamp=stamp, failure=unavailable)
        tx.actions.extend(order_writes.actions)
        tx.failures.extend(order_writes.failures)

    return order, add


def record_own(tenant: str, item: Mapping[str, Any], *, unavailable: DialtoneError,
               customer_rule: tuple[customers.Condition, DialtoneError]) -> None:
    """A number the customer has from elsewhere (``owned_numbers.own_number_item``)
    recorded as theirs, no order and no charge: one transaction, conditional
    on the number not being in the tenant yet (``unavailable``) and on the
    customer still meeting ``customer_rule``."""
    tx = Transaction()
    customers.add_condition_check(tx, tenant, int(item["customerId"]), customer_rule[0], failure=customer_rule[1])
    owned_numbers.add_own_number(tx, tenant, item, failure=unavailable)
    tx.execute()


def commit(writes: Writes) -> None:
    """``writes`` as a transaction of their own (a sale with nothing to charge)."""
    tx = Transaction()
    writes(tx)
    tx.execute()
