"""A bulk reservation larger than one transaction whose process dies half-way
holds nothing once its short claim lease has passed (DynamoDB Local)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib import clock
from tests.support.surfaces.carrier import landlines, make_shop


class Died(BaseException):
    """The process stopping between two chunks (not an error the code handles)."""


def test_a_bulk_reservation_that_died_half_way_is_released_by_the_sweeper(runtime, monkeypatch):
    with runtime.environment():
        from chalicelib.domain.numbers import inventory as rules
        from chalicelib.domain.identity import principal_from_user
        from chalicelib.services.numbers import reservations
        from chalicelib.services.identity import users
        from chalicelib.store.dynamo import keys
        from chalicelib.store.numbers import carts
        from chalicelib.store.numbers import inventory as store

        shop = make_shop(landlines("206219", 300), customers=1)
        user = users.find_user(tenant=shop.tenant, user=f"u0-{shop.tenant}")
        principal = principal_from_user(user, shop.tenant)
        customer = {"id": shop.customer_ids[0]}
        real_claim = carts.claim_chunk
        calls = []

        def claim_then_die(*args, **kwargs):
            if calls:
                raise Died()
            calls.append(1)
            return real_claim(*args, **kwargs)

        monkeypatch.setattr(carts, "claim_chunk", claim_then_die)
        # a dead process runs no clean-up either
        monkeypatch.setattr(reservations, "_release_items", lambda *a, **k: [])
        criteria = rules.Criteria(category=rules.LANDLINE, state="WA", npanxx="206219")
        with pytest.raises(Died):
            reservations.bulk_reserve(principal=principal, customer=customer, criteria=criteria, quantity=250)
        monkeypatch.undo()

        counter = keys.npanxx_counter_sk("WA", "206219")
        held = 300 - {c["SK"]: int(c["count"]) for c in store.counters(shop.tenant, "")}[counter]
        assert 90 <= held < 100  # the first chunk was claimed...
        expired = carts.expired_carts(shop.tenant, "9999")
        assert len(expired) == 1 and expired[0]["status"] == carts.CLAIMING  # ...under a claiming cart
        # nobody can order a half-claimed reservation
        with pytest.raises(Exception):
            reservations.get_own_cart(principal=principal, customer=customer, reserve_id=expired[0]["reserveId"])
        # before the lease ends the sweeper leaves it; after, it releases every number
        assert reservations.sweep_all(tenants=[shop.tenant]) == {}
        lease_end = expired[0]["holdUntil"]
        with clock.frozen(datetime.fromisoformat(lease_end) + timedelta(microseconds=1)):
            assert reservations.sweep_all(tenants=[shop.tenant]) == {shop.tenant: held}
        assert {c["SK"]: int(c["count"]) for c in store.counters(shop.tenant, "")}[counter] == 300
        assert all(i["status"] == "available" for i in store.existing(
            shop.tenant, [f"206219{n:04d}" for n in range(300)]).values())
        assert carts.get_cart(shop.tenant, expired[0]["reserveId"]) is None
