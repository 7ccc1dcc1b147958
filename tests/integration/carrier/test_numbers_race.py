"""Numbers over real HTTP against DynamoDB Local: many customers racing for
the same numbers, then ordering what they won, through the SQS order worker.
moto cannot be trusted with this (it does not serialise transactions)."""
from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import requests

from tests.support.harness.concurrency import run_concurrently
from tests.support.surfaces.carrier import landlines, make_shop

CUSTOMERS = 8
STOCK = 300          # numbers in one NPANXX
EACH = 45            # 8 x 45 = 360 > 300: some requests must lose
EXACT = [f"2062190{n:03d}" for n in range(100, 110)]  # wanted by every customer at once


def carrier(session: requests.Session, runtime: Any, name: str, key: str, account: str,
            **params: str) -> tuple[int, dict[str, Any]]:
    answer = session.post(f"{runtime.base_url}/carrier/{name}", json={"token": key, "accountno": account, **params})
    return answer.status_code, answer.json()


def test_racing_customers_never_share_a_number_and_orders_sell_each_once(runtime):
    with runtime.environment():
        shop = make_shop(landlines("206219", STOCK), customers=CUSTOMERS, credit_limit="-10000")
    sessions = [requests.Session() for _ in range(CUSTOMERS)]

    def race(n: int) -> dict[str, Any]:
        account = shop.accounts[n]
        key = shop.keys[account]
        started = time.monotonic()
        # half ask for the same exact numbers, all ask for a bulk block of the same NPANXX
        exact = carrier(sessions[n], runtime, "reserve", key, account, category="landline", number=",".join(EXACT))
        bulk = carrier(sessions[n], runtime, "bulkreserve", key, account, category="landline", state="WA",
                       npanxx="206219", quantity=str(EACH))
        return {"account": account, "exact": exact, "bulk": bulk, "started": started, "ended": time.monotonic()}

    results, peak = run_concurrently(CUSTOMERS, race)
    assert peak == CUSTOMERS  # every client was in flight at once
    assert max(r["started"] for r in results) < min(r["ended"] for r in results)

    won: dict[str, list[str]] = {}
    for r in results:
        for status, body in (r["exact"], r["bulk"]):
            if status == 200:
                won.setdefault(r["account"], []).append(body["reserveId"])
                assert body["TNs"] == sorted(body["TNs"])
            else:
                assert (status, body["status"]) in ((404, "404"), (409, "409")), body
    exact_winners = [r for r in results if r["exact"][0] == 200]
    assert len(exact_winners) <= 1 and all(w["exact"][1]["TNs"] == EXACT for w in exact_winners)

    holders: Counter[str] = Counter()
    carts: dict[str, tuple[str, str]] = {}
    for r in results:
        for status, body in (r["exact"], r["bulk"]):
            if status == 200:
                for tn in body["TNs"]:
                    holders[tn] += 1
                    carts[tn] = (r["account"], body["reserveId"])
    assert holders and max(holders.values()) == 1  # no number in two carts
    bulk_wins = sum(1 for r in results if r["bulk"][0] == 200)
    assert 0 < bulk_wins < CUSTOMERS  # contention was real: not everyone could have EACH

    with runtime.environment():
        from chalicelib.store.dynamo import keys
        from chalicelib.store.numbers import inventory as store

        items = store.existing(shop.tenant, [f"206219{n:04d}" for n in range(STOCK)])
        for number, item in items.items():
            if number in carts:
                assert item["status"] == "reserved" and str(item["reserveId"]) == carts[number][1]
            else:
                assert item["status"] == "available" and "reserveId" not in item
        counters = {c["SK"]: int(c["count"]) for c in store.counters(shop.tenant, "")}
        assert counters[keys.npanxx_counter_sk("WA", "206219")] == STOCK - len(carts)

    # Every winner orders its carts at once; the worker sells each number once.
    def order(n: int) -> list[str]:
        account = shop.accounts[n]
        key = shop.keys[account]
        status, trunk = carrier(sessions[n], runtime, "defineTrunk", key, account, title="t", primaryTrunk="203.0.113.9",
                                billingType="Metered")
        assert status == 200, trunk
        ids = []
        # A customer's reservations share its Order Cart: one gen_order per cart.
        for reserve_id in dict.fromkeys(won.get(account, [])):
            status, body = carrier(sessions[n], runtime, "gen_order", key, account, reserveId=reserve_id,
                                   trunk_id=trunk["tg_id"])
            assert status == 200, body
            ids.append(body["orderId"])
            # asked twice, as a client retrying would: one order, one charge
            for _ in range(2):
                assert carrier(sessions[n], runtime, "process_order", key, account, orderId=body["orderId"])[0] == 200
        return ids

    order_ids, _ = run_concurrently(CUSTOMERS, order)
    deadline = time.monotonic() + 60
    owners: Counter[str] = Counter()
    while time.monotonic() < deadline:
        owners.clear()
        states = []
        for n in range(CUSTOMERS):
            account = shop.accounts[n]
            for order_id in order_ids[n]:
                states.append(carrier(sessions[n], runtime, "get_new_orders", shop.keys[account], account,
                                      orderId=order_id)[1]["Orders"][0]["state"])
        if all(s == "complete" for s in states):
            break
        time.sleep(0.5)
    assert all(s == "complete" for s in states), states
    for n in range(CUSTOMERS):
        account = shop.accounts[n]
        for number in carrier(sessions[n], runtime, "getnumbers", shop.keys[account], account)[1]["data"]:
            owners[number["didnumber"]] += 1
            assert carts[number["didnumber"]][0] == account
    assert set(owners) == set(carts) and max(owners.values()) == 1  # every number sold exactly once
    with runtime.environment():
        from chalicelib.services.numbers import order_charges

        for n in range(CUSTOMERS):
            spent = -order_charges.balance_of(tenant=shop.tenant, customer_id=shop.customer_ids[n])
            count = sum(1 for owner, _ in carts.values() if owner == shop.accounts[n])
            assert spent == Decimal("1.75") * count  # 1.25 monthly + 0.50 setup each, charged once
