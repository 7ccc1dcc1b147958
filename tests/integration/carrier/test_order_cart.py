"""The Order Cart over real HTTP against DynamoDB Local: many clients reserve
numbers one ``reserve`` at a time and then call ``gen_order`` once, as the seed
invites ("keep reserving multiple DIDs and then Generate Order at once"):
every number they reserved is in their order, none twice."""
from __future__ import annotations

import time
from typing import Any

import requests

from tests.support.harness.concurrency import run_concurrently
from tests.support.surfaces.carrier import landlines, make_shop

CLIENTS = 32
STOCK = 100


def carrier(session: requests.Session, runtime: Any, name: str, key: str, account: str,
            **params: str) -> tuple[int, dict[str, Any]]:
    answer = session.post(f"{runtime.base_url}/carrier/{name}", json={"token": key, "accountno": account, **params})
    return answer.status_code, answer.json()


def test_every_number_reserved_one_at_a_time_is_ordered(runtime):
    with runtime.environment():
        shop = make_shop(landlines("206219", STOCK), customers=CLIENTS, credit_limit="-10000")
    stock = [f"206219{n:04d}" for n in range(STOCK)]
    wanted = {n: stock[n::CLIENTS] for n in range(CLIENTS)}  # 3 or 4 numbers each, all 100 wanted
    sessions = [requests.Session() for _ in range(CLIENTS)]
    trunks = {}
    for n in range(CLIENTS):
        account = shop.accounts[n]
        status, trunk = carrier(sessions[n], runtime, "defineTrunk", shop.keys[account], account, title="t",
                                primaryTrunk="203.0.113.9", billingType="Metered")
        assert status == 200, trunk
        trunks[n] = trunk["tg_id"]

    def client(n: int) -> dict[str, Any]:
        account, session = shop.accounts[n], sessions[n]
        key = shop.keys[account]
        started = time.monotonic()
        reserved = []
        for number in wanted[n]:
            status, body = carrier(session, runtime, "reserve", key, account, category="landline", number=number)
            assert (status, body["TNs"]) == (200, [number]), body
            reserved.append(body["reserveId"])
        # Half name the reserveId they were given (the last one), half rely on the Order Cart.
        named = {"reserveId": reserved[-1]} if n % 2 else {}
        status, order = carrier(session, runtime, "gen_order", key, account, trunk_id=trunks[n], **named)
        return {"reserved": reserved, "gen_order": (status, order), "started": started, "ended": time.monotonic()}

    results, peak = run_concurrently(CLIENTS, client)
    assert peak == CLIENTS  # every client was in flight at once
    assert max(r["started"] for r in results) < min(r["ended"] for r in results)

    ordered: list[str] = []
    for n, result in enumerate(results):
        assert len(set(result["reserved"])) == 1, result["reserved"]  # each reserve joined the one Order Cart
        status, order = result["gen_order"]
        assert status == 200 and order["status"] == "200", order
        assert (order["orderStatus"], order["orderState"]) == ("0", "generated")
        assert order["reserveId"] == result["reserved"][0]
        assert order["numbers"] == sorted(wanted[n])
        ordered += order["numbers"]
    assert sorted(ordered) == stock  # all 100 ordered, each once

    with runtime.environment():
        from chalicelib.store.numbers import carts
        from chalicelib.store.numbers import inventory as store

        items = store.existing(shop.tenant, stock)
        assert all(item["status"] == "reserved" for item in items.values())
        for result in results:
            cart = carts.get_cart(shop.tenant, int(result["reserved"][0]))
            assert cart["status"] == carts.ORDERED
