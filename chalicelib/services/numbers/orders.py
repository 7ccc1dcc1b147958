"""Number orders: a cart becomes an order (gen_order), the order is queued
(process_order) and the order worker fulfils it (fulfil_order): charges and
activates it exactly once.

Order states: generated -> queued -> charged -> complete, or -> failed (the
balance could not cover it; its numbers go back to availability). Each move
is a conditional write on the state it leaves, with an entry in ``history``.
The worker can stop anywhere and run again on a redelivered message:
  - queued -> charged is ONE transaction with the charge itself;
  - activation is chunked; each chunk only moves numbers still reserved by
    the order's cart, so a chunk done before a crash is not done twice;
  - charged -> complete comes last, after every number is active.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from chalicelib import clock
from chalicelib.domain.numbers import inventory as number_rules
from chalicelib.domain.numbers import trunks as trunk_rules
from chalicelib.domain.errors import (
    ConcurrentUpdateError, InsufficientFundsError, InvalidStateError, NotFoundError,
)
from chalicelib.domain.identity import Principal
from chalicelib.domain.money.amounts import as_money, round_money
from chalicelib.observability import metrics
from chalicelib.services.common import audit
from chalicelib.services.numbers import reservations
from chalicelib.services.numbers import order_charges
from chalicelib.services.numbers import trunks
from chalicelib.store import queues
from chalicelib.store.numbers import carts
from chalicelib.store.numbers import inventory as number_store
from chalicelib.store.numbers import owned as owned_numbers
from chalicelib.store.numbers import orders as store

GENERATED, QUEUED, CHARGED, COMPLETE, FAILED = "generated", "queued", "charged", "complete", "failed"
# The carrier API's order status codes.
STATUS_CODES = {GENERATED: "0", QUEUED: "2", CHARGED: "3", COMPLETE: "1", FAILED: "4"}


def order_pricing(tenant: str) -> dict[str, Decimal]:
    """The tenant's per-order cost, tax rate, other charges and discount rate
    (set with ``python -m chalicelib.admin set-order-pricing``; zero if unset)."""
    return store.pricing(tenant)


def set_order_pricing(*, tenant: str, values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    store.set_pricing(tenant, values)
    return dict(values)


def price(subtotal: Decimal, pricing: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Amounts of an order: numbers' setup + first month, per-order cost,
    taxes on both, other charges, minus a discount on the numbers."""
    per_order = as_money(pricing["perOrderCost"])
    discount = round_money(subtotal * pricing["discountRate"])
    taxes = round_money((subtotal - discount + per_order) * pricing["taxRate"])
    other = as_money(pricing["otherCharges"])
    return {"numbersAmount": as_money(subtotal), "perOrderCost": per_order, "taxes": taxes,
            "otherCharges": other, "discount": discount,
            "amount": as_money(subtotal - discount + per_order + taxes + other)}


def _history(status: str, at: str, note: str | None = None) -> dict[str, str]:
    return {"status": status, "at": at, **({"note": note} if note else {})}


ORDER_ATTEMPTS = 5


def generate_order(*, principal: Principal, customer: Mapping[str, Any], reserve_id: Any | None,
                   trunk_id: Any) -> dict[str, Any]:
    """Turn the cart the client names (``reserve_id``), or without one the
    customer's Order Cart, into an order, in one transaction with the cart's
    move to ``ordered`` (so the cart can neither expire nor be ordered twice).
    A reservation joining the cart meanwhile changes its version: read it
    again, so the order holds every number the cart held when it was made."""
    principal.require_write()
    trunk = trunks.get_trunk(principal=principal, customer=customer, trunk_id=trunk_id,
                             direction=trunk_rules.ORIGINATION, field="trunk_id")
    for _ in range(ORDER_ATTEMPTS):
        if reserve_id is None:
            cart = reservations.get_customer_cart(principal=principal, customer=customer)
        else:
            cart = reservations.get_own_cart(principal=principal, customer=customer, reserve_id=reserve_id)
        try:
            return _order_cart(principal.tenant_id, customer, cart, trunk)
        except ConcurrentUpdateError:
            continue
    raise ConcurrentUpdateError("the Order Cart kept changing; try again")


def _order_cart(tenant: str, customer: Mapping[str, Any], cart: Mapping[str, Any],
                trunk: Mapping[str, Any]) -> dict[str, Any]:
    held = sorted(cart.get("numbers") or ())
    if not held:
        raise NotFoundError("Invalid reserveId", field="reserveId")
    items = number_store.existing(tenant, held)
    subtotal = number_rules.order_amount((as_money(i["monthlyPrice"]), as_money(i["setupPrice"]))
                                         for i in items.values())
    amounts = price(subtotal, order_pricing(tenant))
    categories = {i["category"] for i in items.values()}
    now = clock.now_iso()
    order = store.create_from_cart(tenant, {
        "customerId": customer["id"], "accountNumber": customer["accountNumber"], "reserveId": cart["reserveId"],
        "numbers": held, "trunkId": trunk["id"], "orderType": "New",
        "category": categories.pop() if len(categories) == 1 else "mixed",
        "didType": trunk["billingType"], "sessions": trunk.get("sessions", 0),
        **amounts, "status": GENERATED, "history": [_history(GENERATED, now)],
    }, cart=cart, customer_id=customer["id"], now=now,
        cart_gone=ConcurrentUpdateError("the Order Cart changed while the order was made"))
    audit.touch("order", order["id"])
    return order


def get_order(*, principal: Principal, customer: Mapping[str, Any], order_id: Any) -> dict[str, Any]:
    principal.require_read()
    text = str(order_id or "").strip()
    order = store.get_order(principal.tenant_id, int(text)) if text.isdigit() else None
    if order is None or order["customerId"] != customer["id"]:
        raise NotFoundError("Invalid orderId", field="orderId")
    audit.touch("order", order["id"])
    return order


def list_orders(*, principal: Principal, customer: Mapping[str, Any], limit: int = 1000) -> list[dict[str, Any]]:
    principal.require_read()
    return store.orders_of(principal.tenant_id, customer["id"], limit=limit)


def queue_order(*, principal: Principal, customer: Mapping[str, Any], order_id: Any) -> dict[str, Any]:
    """Hand the order to the order worker. Asking again for a queued order
    queues it again (the worker is idempotent); a finished one is refused."""
    principal.require_write()
    order = get_order(principal=principal, customer=customer, order_id=order_id)
    if order["status"] in (COMPLETE, FAILED):
        raise InvalidStateError(f"order {order['id']} is already {order['status']}", field="orderId")
    if order["status"] == GENERATED:
        order = _move(principal.tenant_id, order, QUEUED)

    queues.publish("orders", {"tenant": principal.tenant_id, "orderId": order["id"]})
    return order


def _move(tenant: str, order: Mapping[str, Any], status: str, note: str | None = None) -> dict[str, Any]:
    """Move the order to ``status`` if it is still as read (version condition)."""
    now = clock.now_iso()
    return store.update(tenant, order, {
        "status": status, "history": [*order.get("history", []), _history(status, now, note)]})


def fulfil_order(*, tenant: str, order_id: int) -> str:
    """The order worker's step for one message: charge, activate, complete.
    Returns the order's final status; safe to run any number of times."""
    for _ in range(10):
        order = store.get_order(tenant, order_id)
        if order is None:
            return "missing"
        status = order["status"]
        try:
            if status == FAILED:
                _release_cart_of(tenant, order)  # finishes a failure that stopped half-way
                return status
            if status == COMPLETE:
                return status
            if status in (GENERATED, QUEUED):
                _charge(tenant, order)
                continue
            if status == CHARGED:
                _activate(tenant, order)
                _move(tenant, order, COMPLETE)
                metrics.count("OrdersProcessed", Outcome=COMPLETE)
                carts.delete_cart(tenant, order["reserveId"])
                return COMPLETE
        except ConcurrentUpdateError:
            continue  # another delivery moved it: read it again
    raise ConcurrentUpdateError(f"order {order_id} kept changing while being processed")


def _charge(tenant: str, order: Mapping[str, Any]) -> None:
    """Debit the order through the ledger, atomically with its move to charged."""
    amount = as_money(order["amount"])
    charged = {"status": CHARGED, "history": [*order.get("history", []), _history(CHARGED, clock.now_iso())]}
    if amount == 0:
        store.update(tenant, order, charged)
        return
    try:
        order_charges.charge_order(tenant=tenant, customer_id=order["customerId"], amount=amount,
                                   order_id=order["id"], also=store.charged_writes(tenant, order, charged))
    except InsufficientFundsError:
        _fail(tenant, order, "insufficient balance")
    except NotFoundError:
        _fail(tenant, order, "customer no longer exists")


def _fail(tenant: str, order: Mapping[str, Any], reason: str) -> None:
    # Failed first, then release: a failed order can never be charged later.
    failed = _move(tenant, order, FAILED, note=reason)
    metrics.count("OrdersProcessed", Outcome=FAILED)
    _release_cart_of(tenant, failed)


def _release_cart_of(tenant: str, order: Mapping[str, Any]) -> None:
    cart = carts.get_cart(tenant, order["reserveId"])
    if cart is not None:
        reservations.release_cart(tenant=tenant, cart=cart)


def _activate(tenant: str, order: Mapping[str, Any]) -> None:
    """Numbers still reserved by the order's cart become the customer's active
    numbers, chunk by chunk; numbers already activated are skipped."""
    items = number_store.existing(tenant, order["numbers"])
    todo = [i for i in items.values()
            if i["status"] == number_rules.RESERVED and i.get("reserveId") == order["reserveId"]]
    if not owned_numbers.activate_reserved(tenant, [i["number"] for i in todo], reserve_id=order["reserveId"],
                                          customer_id=order["customerId"], order_id=order["id"],
                                          trunk_id=order["trunkId"], stamp=clock.now_iso()):
        raise ConcurrentUpdateError("a number of the order changed during activation")
