"""Number orders (services/numbers/orders.py): a cart becomes an order once,
and the order worker charges and activates it exactly once, however often
its message is delivered."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest

from chalicelib.domain.numbers import inventory as rules
from chalicelib.domain.errors import InvalidStateError, NotFoundError
from chalicelib.services.numbers import inventory, order_charges, orders, trunks
from chalicelib.services.numbers import reservations
from chalicelib.store.numbers import carts
from chalicelib.store.numbers import inventory as store
from chalicelib.store.numbers import owned as owned_numbers
from chalicelib.store.numbers import orders as order_store
from tests.support.surfaces.carrier import inventory_csv, landlines
from tests.support.worlds.money import admin, new_customer

NUMBERS = ["2062190000", "2062190001"]  # 1.25 a month + 0.50 setup each


@pytest.fixture()
def shop(tenant):
    principal = admin(tenant)
    inventory.import_numbers(tenant=principal.tenant_id, lines=io.StringIO(inventory_csv(landlines("206219", 4))))
    return principal


def a_cart_and_trunk(principal, customer):
    trunk = trunks.define_origination(principal=principal, customer=customer, params={
        "title": "Main", "primaryTrunk": "203.0.113.9", "billingType": "Metered"})
    cart = reservations.reserve_numbers(principal=principal, customer=customer, numbers=NUMBERS)
    return cart, trunk


def test_a_cart_becomes_one_order_and_stops_expiring(shop):
    acme = new_customer(shop, credit_limit="-100")
    cart, trunk = a_cart_and_trunk(shop, acme)
    order = orders.generate_order(principal=shop, customer=acme, reserve_id=cart["reserveId"], trunk_id=trunk["id"])
    assert order["status"] == orders.GENERATED and order["numbers"] == NUMBERS
    assert order["amount"] == Decimal("3.50") and order["trunkId"] == trunk["id"]
    assert carts.get_cart(shop.tenant_id, cart["reserveId"])["status"] == carts.ORDERED
    with pytest.raises(NotFoundError):  # the cart is ordered: not a second time
        orders.generate_order(principal=shop, customer=acme, reserve_id=cart["reserveId"], trunk_id=trunk["id"])
    assert [o["id"] for o in orders.list_orders(principal=shop, customer=acme)] == [order["id"]]
    assert orders.get_order(principal=shop, customer=acme, order_id=str(order["id"])) == order


def test_an_order_is_charged_and_activated_exactly_once(shop):
    acme = new_customer(shop, credit_limit="-100")
    cart, trunk = a_cart_and_trunk(shop, acme)
    order = orders.generate_order(principal=shop, customer=acme, reserve_id=cart["reserveId"], trunk_id=trunk["id"])
    queued = orders.queue_order(principal=shop, customer=acme, order_id=order["id"])
    assert queued["status"] == orders.QUEUED
    assert orders.fulfil_order(tenant=shop.tenant_id, order_id=order["id"]) == orders.COMPLETE
    balance = order_charges.balance_of(tenant=shop.tenant_id, customer_id=acme["id"])
    assert balance == Decimal("-3.50")
    for _ in range(2):  # redelivered messages, a re-queue
        assert orders.fulfil_order(tenant=shop.tenant_id, order_id=order["id"]) == orders.COMPLETE
    with pytest.raises(InvalidStateError):
        orders.queue_order(principal=shop, customer=acme, order_id=order["id"])
    assert order_charges.balance_of(tenant=shop.tenant_id, customer_id=acme["id"]) == balance
    stored = order_store.get_order(shop.tenant_id, order["id"])
    assert [h["status"] for h in stored["history"]] == [orders.GENERATED, orders.QUEUED, orders.CHARGED,
                                                        orders.COMPLETE]
    owned = {i["number"]: i for i in owned_numbers.owned(shop.tenant_id, acme["id"])}
    assert sorted(owned) == NUMBERS
    assert all(i["status"] == rules.ACTIVE and i["orderId"] == order["id"] and i["trunkId"] == trunk["id"]
               and "reserveId" not in i for i in owned.values())
    assert carts.get_cart(shop.tenant_id, cart["reserveId"]) is None


def test_an_order_the_balance_cannot_cover_fails_and_gives_its_numbers_back(shop):
    broke = new_customer(shop, credit_limit="0")
    cart, trunk = a_cart_and_trunk(shop, broke)
    order = orders.generate_order(principal=shop, customer=broke, reserve_id=cart["reserveId"], trunk_id=trunk["id"])
    assert orders.fulfil_order(tenant=shop.tenant_id, order_id=order["id"]) == orders.FAILED
    assert orders.fulfil_order(tenant=shop.tenant_id, order_id=order["id"]) == orders.FAILED
    assert order_charges.balance_of(tenant=shop.tenant_id, customer_id=broke["id"]) == Decimal("0")
    items = store.existing(shop.tenant_id, NUMBERS)
    assert [items[n]["status"] for n in NUMBERS] == [rules.AVAILABLE, rules.AVAILABLE]
    assert owned_numbers.owned(shop.tenant_id, broke["id"]) == []
    assert order_store.get_order(shop.tenant_id, order["id"])["history"][-1]["note"] == "insufficient balance"


def test_order_pricing_adds_per_order_cost_and_taxes(shop):
    orders.set_order_pricing(tenant=shop.tenant_id, values={"perOrderCost": Decimal("1.5"),
                                                             "taxRate": Decimal("0.1")})
    assert orders.order_pricing(shop.tenant_id) == {"perOrderCost": Decimal("1.5"), "taxRate": Decimal("0.1"),
                                                    "otherCharges": Decimal("0"), "discountRate": Decimal("0")}
    acme = new_customer(shop, credit_limit="-100")
    cart, trunk = a_cart_and_trunk(shop, acme)
    order = orders.generate_order(principal=shop, customer=acme, reserve_id=cart["reserveId"], trunk_id=trunk["id"])
    assert (order["perOrderCost"], order["taxes"], order["amount"]) == (Decimal("1.50"), Decimal("0.50"),
                                                                         Decimal("5.50"))
