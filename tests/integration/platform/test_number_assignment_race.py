"""POST /customers/{id}/numbers racing for the same number, over real HTTP
against DynamoDB Local (moto does not serialise concurrent transactions):
exactly one sale, one charge, one count off the availability counters."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests

RACERS = 8
CONTESTED = "2062190500"


def _seed(runtime):
    from chalicelib.auth import api_key
    from chalicelib.services.customers import accounts as customers
    from chalicelib.services.identity import users
    from tests.support.worlds.numbers import import_landlines

    with runtime.environment():
        tenant = users.create_tenant(name="Assignment race")
        principal = api_key.authenticate(tenant["user"]["api_key"], None)
        # Half the racers sell to one customer (same ledger account), half to others.
        ids = [customers.create_customer(principal=principal, fields={"name": f"Racer {n}", "creditLimit": "-100"})["id"]
               for n in range(RACERS // 2 + 1)]
        import_landlines(tenant["tenant"]["id"], [CONTESTED, "2062190501"])
        return tenant, ids


def test_one_number_sold_concurrently_has_exactly_one_winner(runtime):
    tenant, ids = _seed(runtime)
    key = tenant["user"]["api_key"]
    targets = [ids[0]] * (RACERS // 2) + ids[1:RACERS // 2 + 1]
    barrier = threading.Barrier(RACERS)

    def sell(customer_id: int):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        session.get(f"{runtime.base_url}/backend/api/v1/users/me", timeout=30)  # connection and key warm
        barrier.wait()
        started = time.monotonic()
        answer = session.post(f"{runtime.base_url}/backend/api/v1/customers/{customer_id}/numbers",
                              json={"number": CONTESTED}, timeout=60)
        return started, time.monotonic(), customer_id, answer.status_code, answer.json()

    with ThreadPoolExecutor(RACERS) as pool:
        results = list(pool.map(sell, targets))

    # The requests really overlapped: every one started before any finished.
    assert max(r[0] for r in results) < min(r[1] for r in results), results
    statuses = sorted(r[3] for r in results)
    assert statuses == [201] + [409] * (RACERS - 1), [(r[3], r[4]) for r in results]
    assert all(r[4]["error_code"] == 409004 for r in results if r[3] == 409)
    [winner] = [r for r in results if r[3] == 201]
    assert winner[4]["customerID"] == winner[2] and winner[4]["number"] == CONTESTED

    with runtime.environment():
        from chalicelib.auth import api_key
        from chalicelib.services.customers import accounts as customers
        from chalicelib.services.numbers import orders
        from chalicelib.store.numbers import inventory as store

        principal = api_key.authenticate(key, None)
        item = store.get_number(tenant["tenant"]["id"], CONTESTED)
        assert (item["status"], item["customerId"], item["orderId"]) == ("active", winner[2], winner[4]["orderID"])
        counters = {c["SK"]: int(c["count"]) for c in store.counters(tenant["tenant"]["id"], "")}
        assert counters == {"STATE#landline#WA": 1, "NPANXX#WA#206219": 1}  # two stocked, one sold, once
        balances = {c: Decimal(str(customers.get_customer(principal=principal, customer_id=c).get("balance") or 0))
                    for c in set(targets)}
        assert balances[winner[2]] == Decimal("-1.75")
        assert all(b == 0 for c, b in balances.items() if c != winner[2]), balances
        placed = {c: orders.list_orders(principal=principal, customer={"id": c}) for c in set(targets)}
        assert sum(len(v) for v in placed.values()) == 1 and [o["id"] for o in placed[winner[2]]] == \
            [winner[4]["orderID"]]


def test_one_own_number_recorded_concurrently_has_exactly_one_owner(runtime):
    """A number the inventory does not hold is recorded as a customer's own
    (issue 14): racing recordings of it, for one customer or several, leave
    exactly one number item and one id lookup, and no stock."""
    tenant, ids = _seed(runtime)
    key = tenant["user"]["api_key"]
    own = "+442071234567"
    targets = [ids[0]] * (RACERS // 2) + ids[1:RACERS // 2 + 1]
    barrier = threading.Barrier(RACERS)

    def record(customer_id: int):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        session.get(f"{runtime.base_url}/backend/api/v1/users/me", timeout=30)
        barrier.wait()
        answer = session.post(f"{runtime.base_url}/backend/api/v1/customers/{customer_id}/numbers",
                              json={"number": own}, timeout=60)
        return customer_id, answer.status_code, answer.json()

    with ThreadPoolExecutor(RACERS) as pool:
        results = list(pool.map(record, targets))
    assert sorted(r[1] for r in results) == [201] + [409] * (RACERS - 1), results
    assert all(r[2]["error_code"] == 409004 for r in results if r[1] == 409)
    [winner] = [r for r in results if r[1] == 201]
    assert (winner[2]["customerID"], winner[2]["origin"]) == (winner[0], "own")

    with runtime.environment():
        from chalicelib.store.numbers import inventory as store
        from chalicelib.store.numbers import owned as owned_numbers

        item = store.get_number(tenant["tenant"]["id"], own)
        assert (item["customerId"], item["id"], item["status"]) == (winner[0], winner[2]["id"], "active")
        assert owned_numbers.number_by_id(tenant["tenant"]["id"], winner[2]["id"])["number"] == own
        counters = {c["SK"]: int(c["count"]) for c in store.counters(tenant["tenant"]["id"], "")}
        assert counters == {"STATE#landline#WA": 2, "NPANXX#WA#206219": 2}  # the stock is untouched
