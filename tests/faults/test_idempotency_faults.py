"""A request with an Idempotency-Key that ran, but whose answer could not be
recorded because AWS stayed busy, still gets its answer: a 503 would make the
client retry a reservation that was made, and the retry would reserve again
once the key's lock had passed."""
from __future__ import annotations

import uuid
from typing import Any

from tests.support.surfaces.carrier import Carrier, chalice_sender, landlines, make_shop
from tests.support.injection.faults import THROTTLE, Fault, Faults


def test_a_reservation_whose_idempotency_record_cannot_be_written_is_answered(client: Any) -> None:
    from chalicelib.store.numbers import carts

    shop = make_shop(landlines("206320", 10), customers=1)
    api = Carrier(chalice_sender(client), shop.keys[shop.accounts[0]], shop.accounts[0])

    def reserve() -> tuple[int, Any]:
        return api("bulkreserve", headers={"Idempotency-Key": uuid.uuid4().hex}, category="landline", state="WA",
                   quantity="1")

    with Faults() as faults:
        reserve()  # the first reservation also makes the customer's cart counter
        faults.record()
        assert reserve()[0] == 200
        calls = list(faults.calls)
        # the answer is recorded by the request's last PutItem (the audit record comes after it)
        finish = max(n for n, name in enumerate(calls) if name == "dynamodb.PutItem")
        faults.arm(Fault(THROTTLE, finish))
        status, body = reserve()
        assert faults.fired == [f"throttle@{finish} at dynamodb.PutItem"]
    assert status == 200, body
    [number] = body["TNs"]
    cart = carts.get_cart(shop.tenant, int(body["reserveId"]))
    # the customer's Order Cart holds one number per reservation: three, not four
    assert cart is not None and number in cart["numbers"] and len(cart["numbers"]) == 3
