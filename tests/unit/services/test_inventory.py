"""Number inventory (services/numbers/inventory.py): search, reserve into a
cart, release (by the customer, and by expiry), with the availability
counters kept exact."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.domain.numbers import inventory as rules
from chalicelib.domain.errors import NotFoundError, NumberUnavailableError
from chalicelib.services.numbers import inventory
from chalicelib.services.numbers import reservations
from chalicelib.store.numbers import carts
from chalicelib.store.numbers import inventory as store
from chalicelib.store.dynamo import keys
from tests.support.surfaces.carrier import inventory_csv, landlines, tollfree
from tests.support.worlds.money import admin, new_customer

WA = rules.Criteria(category=rules.LANDLINE, state="WA", npanxx="206219")


@pytest.fixture()
def stocked(tenant):
    principal = admin(tenant)
    rows = landlines("206219", 6) + landlines("503555", 2, state="OR", city="PORTLAND") + tollfree("800", 2)
    result = inventory.import_numbers(tenant=principal.tenant_id, lines=io.StringIO(inventory_csv(rows)))
    assert result["added"] == 10 and result["rejected"] == 0
    return principal


def available_in_206219(principal) -> int:
    found = {c["SK"]: int(c["count"]) for c in store.counters(principal.tenant_id, "")}
    return found[keys.npanxx_counter_sk("WA", "206219")]


def statuses(principal, numbers):
    items = store.existing(principal.tenant_id, numbers)
    return [items[n]["status"] for n in numbers]


def test_an_import_twice_adds_nothing_and_search_finds_numbers_in_order(stocked):
    again = inventory.import_numbers(tenant=stocked.tenant_id,
                                     lines=io.StringIO(inventory_csv(landlines("206219", 6))))
    assert again["added"] == 0 and again["existing"] == 6
    assert inventory.available_states(principal=stocked) == ["OR", "WA"]
    assert inventory.available_npanxx(principal=stocked, state="WA") == [
        {"npanxx": "206219", "npa": "206", "rateCenter": "SEATTLE", "count": 6}]
    found = inventory.search(principal=stocked, criteria=WA, limit=4)
    assert [i["number"] for i in found] == [f"206219{n:04d}" for n in range(4)]
    tollfree_found = inventory.search(principal=stocked, criteria=rules.Criteria(category=rules.TOLLFREE,
                                                                                 tfn_prefix="800"))
    assert [i["number"] for i in tollfree_found] == ["8005550000", "8005550001"]


def test_reserved_numbers_leave_availability_and_cannot_be_reserved_twice(stocked):
    acme, globex = new_customer(stocked, name="Acme"), new_customer(stocked, name="Globex")
    cart = reservations.reserve_numbers(principal=stocked, customer=acme, numbers=["2062190001", "2062190003"])
    assert cart["numbers"] == ["2062190001", "2062190003"]
    assert statuses(stocked, cart["numbers"]) == [rules.RESERVED, rules.RESERVED]
    assert available_in_206219(stocked) == 4
    assert [i["number"] for i in inventory.search(principal=stocked, criteria=WA)] == [
        "2062190000", "2062190002", "2062190004", "2062190005"]
    with pytest.raises(NumberUnavailableError):  # all or none: 2062190000 is not taken either
        reservations.reserve_numbers(principal=stocked, customer=globex, numbers=["2062190000", "2062190003"])
    assert statuses(stocked, ["2062190000"]) == [rules.AVAILABLE]
    held = reservations.get_own_cart(principal=stocked, customer=acme, reserve_id=cart["reserveId"])
    assert held["status"] == carts.OPEN and held["numbers"] == {"2062190001", "2062190003"}
    with pytest.raises(NotFoundError):  # another customer's cart is not told apart from none
        reservations.get_own_cart(principal=stocked, customer=globex, reserve_id=cart["reserveId"])


def test_a_bulk_reservation_takes_the_lowest_numbers_or_none(stocked):
    acme = new_customer(stocked)
    with pytest.raises(NumberUnavailableError):
        reservations.bulk_reserve(principal=stocked, customer=acme, criteria=WA, quantity=7)
    assert available_in_206219(stocked) == 6
    cart = reservations.bulk_reserve(principal=stocked, customer=acme, criteria=WA, quantity=5)
    assert cart["numbers"] == [f"206219{n:04d}" for n in range(5)]
    assert available_in_206219(stocked) == 1


def test_numbers_removed_from_a_cart_are_available_again(stocked):
    acme = new_customer(stocked)
    cart = reservations.bulk_reserve(principal=stocked, customer=acme, criteria=WA, quantity=3)
    result = reservations.remove_reserved(principal=stocked, customer=acme, reserve_id=cart["reserveId"],
                                       numbers=["2062190001", "2062190005"])
    assert result == {"removed": ["2062190001"], "not_available": ["2062190005"]}
    assert statuses(stocked, ["2062190000", "2062190001", "2062190002"]) == [
        rules.RESERVED, rules.AVAILABLE, rules.RESERVED]
    assert carts.get_cart(stocked.tenant_id, cart["reserveId"])["numbers"] == {"2062190000", "2062190002"}
    assert available_in_206219(stocked) == 4
    reservations.remove_reserved(principal=stocked, customer=acme, reserve_id=cart["reserveId"], numbers=None)
    assert carts.get_cart(stocked.tenant_id, cart["reserveId"]) is None  # emptied: gone
    assert available_in_206219(stocked) == 6


def test_an_expired_cart_gives_its_numbers_back(stocked):
    acme = new_customer(stocked)
    cart = reservations.reserve_numbers(principal=stocked, customer=acme, numbers=["2062190002"])
    assert available_in_206219(stocked) == 5
    assert reservations.release_expired(tenant=stocked.tenant_id) == 0  # still held
    with clock.frozen(clock.now() + timedelta(minutes=reservations.hold_minutes(), seconds=1)):
        with pytest.raises(NotFoundError):  # an expired cart cannot be ordered or changed
            reservations.get_own_cart(principal=stocked, customer=acme, reserve_id=cart["reserveId"])
        assert reservations.release_expired(tenant=stocked.tenant_id) == 1
    assert statuses(stocked, ["2062190002"]) == [rules.AVAILABLE]
    assert "reserveId" not in store.get_number(stocked.tenant_id, "2062190002")
    assert carts.get_cart(stocked.tenant_id, cart["reserveId"]) is None
    assert available_in_206219(stocked) == 6
    assert reservations.release_expired(tenant=stocked.tenant_id) == 0  # nothing left to release
