"""Phone numbers as the billing platform API sees them: the numbers a
customer owns (issue 4), their actions (drop, reinstate) and how one is added.

Numbers are created by the inventory (import, port-in) and sold through the
carrier API's order flow or ``assign`` below; a number the inventory does not
hold is recorded as the customer's own (issue 14). Each number
item carries an integer ``id`` (per tenant, allocated when it is created) and
an id lookup item (``T#<t>#NUMBERID`` / <12-digit id> -> number):

  get by id        GetItem of the lookup, GetItem of the number
  one customer's   ByParent prefix <customer>#, ordered by id in memory
  all (visible)    Query of the lookup partition from idAfter, BatchGetItem of
                   the numbers, keeping those a customer owns
  expansion        ONE Query over the ByParent range of the page of customers

Only numbers a customer owns (status active, inactive or cancelled) are shown:
available and reserved ones are the inventory's, not a customer's.

``assign`` (the seed's ``POST /customers/{id}/numbers``) records a number the
tenant does not hold as the customer's own: owned and active from the start,
never in availability (so never sold), unique in the tenant, not charged. A
number the inventory holds must be available, and is sold straight to the
customer. It is charged as a carrier order is
(services/numbers/orders.py): the number's setup and first month plus the tenant's
per-order pricing, as an "Order (New DIDs)" ledger movement keyed on a new
order id (services/numbers/order_charges.py), and the movement, the number's move
from available to active, its counters and the (complete) order record are
ONE conditional transaction: a number is never sold twice, a refused charge
writes nothing.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from chalicelib import clock
from chalicelib.domain.customers import accounts as customer_rules
from chalicelib.domain.numbers import inventory as rules
from chalicelib.domain.errors import ConcurrentUpdateError, DialtoneError, InvalidStateError, NumberUnavailableError
from chalicelib.domain.money.amounts import as_money
from chalicelib.services.common import actions, audit, retry
from chalicelib.services.customers import accounts as customer_service
from chalicelib.services.customers import items as customer_items
from chalicelib.services.customers.items import ChildResource
from chalicelib.services.money.ledger import Guard
from chalicelib.services.numbers import order_charges, orders, reservations
from chalicelib.store.customers import accounts as customer_store
from chalicelib.store.numbers import inventory as store
from chalicelib.store.numbers import owned as owned_numbers
from chalicelib.store.numbers import orders as order_store
from chalicelib.store.dynamo import entities
from chalicelib.store.dynamo.schema import NUMBER_IDS
from chalicelib.store.dynamo.entities import Page

def is_active(record: Mapping[str, Any]) -> bool:
    return record.get("status") == rules.ACTIVE


def _owned(item: Mapping[str, Any] | None) -> bool:
    return (item is not None and item.get("id") is not None and item.get("customerId") is not None
            and item.get("status") in rules.OWNED)


def _changed_since(page: Page) -> Callable[[Mapping[str, Any]], bool]:
    since = page.updated_since
    return lambda item: since is None or str(item.get("updatedAt") or "") >= since


class InventoryNumbers:
    """The reads customer_items needs (see ChildResource.reader)."""

    def get_one(self, tenant: str, item_id: int) -> dict[str, Any] | None:
        item = owned_numbers.number_by_id(tenant, item_id)
        return entities.public(item) if item is not None and _owned(item) else None

    def list_page(self, tenant: str, page: Page, *, parent_id: int | None = None) -> list[dict[str, Any]]:
        wanted = page.offset + page.limit
        changed = _changed_since(page)

        def keep(item: Mapping[str, Any]) -> bool:
            return (_owned(item) and item["id"] > page.id_after and changed(item)
                    and (page.where is None or page.where(item)))

        if parent_id is not None:
            found = sorted((i for i in owned_numbers.owned(tenant, parent_id) if keep(i)), key=lambda i: i["id"])
        else:
            found = []
            for items in owned_numbers.numbers_in_id_order(tenant, page.id_after, page_size=min(1000, max(wanted, 25))):
                found.extend(i for i in items if keep(i))
                if len(found) >= wanted:
                    break
        return [entities.public(i) for i in found[page.offset:wanted]]

    def children_of(self, tenant: str, parent_ids: Iterable[int],
                    where: Callable[[Mapping[str, Any]], bool] | None = None) -> dict[int, list[dict[str, Any]]]:
        grouped = owned_numbers.owned_by_customers(tenant, parent_ids)
        return {customer: [entities.public(i) for i in sorted(items, key=lambda i: i["id"])
                           if _owned(i) and (where is None or where(i))]
                for customer, items in grouped.items()}


NUMBERS = ChildResource("number", None, is_active=is_active, reader=InventoryNumbers())


# Customers that may be sold a number: not Ex-Customers, not Suspended.
ASSIGNABLE_STATUSES = frozenset({customer_rules.STATUS_CUSTOMER, customer_rules.STATUS_PROSPECT})
# The same rule on the stored customer item (a customer item without a status is a Customer).
ASSIGNABLE = customer_store.status_among(ASSIGNABLE_STATUSES, absent_is_allowed=True)


def _not_assignable(customer_id: int, status: str) -> InvalidStateError:
    return InvalidStateError(f"customer {customer_id} is {status}: numbers are sold to active customers "
                             "and prospects", field="customerID")


def _assignable_guard(customer_id: int) -> Any:
    """The customer may be sold numbers: a Customer or a Prospect (an item
    without a status is a Customer). As a ledger guard on the customer item."""
    def check(item: Mapping[str, Any]) -> None:
        status = item.get("status", customer_rules.STATUS_CUSTOMER)
        if status not in ASSIGNABLE_STATUSES:
            raise _not_assignable(customer_id, customer_rules.STATUS_NAMES.get(status, "Unknown"))

    return Guard(check=check, condition=ASSIGNABLE.expression, names=ASSIGNABLE.names, values=ASSIGNABLE.values)


def assign(*, principal: Any, customer_id: int, number: Any, record_own: bool = False) -> dict[str, Any]:
    """Sell the available inventory number ``number`` to the customer, charged
    as a one-number carrier order; the customer's new number. ``record_own``
    (the billing API): a number the inventory does not hold is recorded as the
    customer's own instead of refused (callers that sell, such as call
    tracking, keep refusing it)."""
    principal.require_write()
    value, category = rules.parse_own_number(number, field="number")
    customer = customer_service.get_customer(principal=principal, customer_id=customer_id)
    # Checked on the customer as read, and again as a condition of the sale's
    # transaction: a customer suspended meanwhile is not sold the number.
    assignable = _assignable_guard(customer_id)
    assignable.check(customer)
    tenant = principal.tenant_id
    # Selling only: the same words for a number never stocked, reserved or sold.
    unavailable = NumberUnavailableError(
        f"number {value} is already in your account: sold, in a cart or recorded for a customer" if record_own
        else f"number {value} is not available in your inventory", field="number")

    def attempt() -> dict[str, Any]:
        item = store.get_number(tenant, value)
        if item is not None and item["status"] == rules.RESERVED:
            reservations.release_expired(tenant=tenant)  # an expired cart gives its numbers back first
            item = store.get_number(tenant, value)
        if item is None and record_own:
            return _record_own(tenant, customer, value, category, assignable, unavailable)
        if item is None or item["status"] != rules.AVAILABLE:
            raise unavailable
        order_id = order_store.allocate_id(tenant)
        number_id = item.get("id") or entities.allocate_ids(tenant, NUMBER_IDS)[0]
        amounts = orders.price(rules.order_amount([(as_money(item["monthlyPrice"]), as_money(item["setupPrice"]))]),
                               orders.order_pricing(tenant))
        stamp = clock.now_iso()
        free = amounts["amount"] == 0
        # No charge: the ledger does not touch the customer item, so the sale checks it.
        customer_rule = (ASSIGNABLE, _not_assignable(customer_id, "no longer active or a prospect")) if free else None
        order, writes = order_store.sale(tenant, item, {
            "customerId": customer["id"], "accountNumber": customer.get("accountNumber"), "numbers": [value],
            "orderType": "New", "category": item["category"], "didType": "", "sessions": 0, **amounts,
            "status": orders.COMPLETE, "source": "billing-api",
            "history": [{"status": orders.COMPLETE, "at": stamp, "note": "assigned through the billing API"}],
        }, order_id=order_id, number_id=number_id, stamp=stamp, unavailable=unavailable, customer_rule=customer_rule)
        if free:
            order_store.commit(writes)
        else:
            # InsufficientFundsError (nothing written) below the credit limit.
            order_charges.charge_order(tenant=tenant, customer_id=customer["id"], amount=amounts["amount"],
                                       order_id=order_id, also=writes, guard=assignable)
        sold = {k: v for k, v in item.items() if k != "reserveId"}  # public() below drops the key attributes
        sold.update(status=rules.ACTIVE, customerId=customer["id"], orderId=order_id, id=number_id,
                    updatedAt=stamp, version=int(item.get("version") or 0) + 1)
        audit.touch("order", order["id"])
        audit.touch("number", number_id)
        return entities.public(sold)

    # A TransactionConflict with a concurrent sale is retried: the re-read then
    # finds the number sold and answers NumberUnavailableError.
    return retry.until_settled(attempt, what=f"number {value}")


def _record_own(tenant: str, customer: Mapping[str, Any], value: str, category: str, assignable: Any,
                unavailable: DialtoneError) -> dict[str, Any]:
    """A number not in the inventory is the customer's own (ported in
    elsewhere, billed only): recorded as theirs, active, without a sale or a
    charge, unique in the tenant (the write is conditional on the number not
    existing, so a concurrent import or recording of it wins or loses whole)."""
    number_id = entities.allocate_ids(tenant, NUMBER_IDS)[0]
    item = owned_numbers.own_number_item(tenant, number=value, category=category, number_id=number_id,
                                 customer_id=customer["id"], stamp=clock.now_iso())
    order_store.record_own(tenant, item, unavailable=unavailable, customer_rule=(
        ASSIGNABLE, _not_assignable(customer["id"], "no longer active or a prospect")))
    audit.touch("number", number_id)
    return entities.public(item)


def perform_action(*, principal: Any, number_id: int, name: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /numbers/{id}?action=drop|reinstate`` (domain/numbers/inventory.py ACTIONS),
    run as every action is (services/common/actions.py): the state checked on
    the version read, the change conditional on it."""
    def write(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        changed = owned_numbers.update_number(principal.tenant_id, current, changes, stamp=clock.now_iso(),
                                      failure=ConcurrentUpdateError(f"number {number_id} changed meanwhile"))
        return entities.public(changed)

    return actions.perform(
        principal=principal, etype=None, resource="number", actions=rules.ACTIONS, status_names=rules.STATUS_NAMES,
        load=lambda: customer_items.get(principal=principal, resource=NUMBERS, item_id=number_id),
        name=name, params=params, write=write)
