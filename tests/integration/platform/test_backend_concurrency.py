"""Concurrent PATCHes over real HTTP against DynamoDB Local (moto does not
serialise concurrent transactions, so this cannot be shown in-process)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

FIELDS = ("state", "phone", "contactName", "companyNumber", "address1", "address2", "city", "postcode")
ROUNDS = 6


def _in(runtime, call):
    with runtime.environment():
        return call()


def _seed(runtime):
    from chalicelib.auth import api_key
    from chalicelib.services.customers import items as customer_items
    from chalicelib.services.customers import accounts as customers
    from chalicelib.services.identity import users

    tenant = users.create_tenant(name="Concurrency")
    principal = api_key.authenticate(tenant["user"]["api_key"], None)
    customer = customers.create_customer(principal=principal, fields={"name": "Racing Ltd"})
    service = customer_items.create(principal=principal, resource=customer_items.SERVICES,
                                    customer_id=customer["id"], fields={"name": "Trunk"})
    return tenant, customer, service


def _race(runtime, key, path, bodies):
    """One thread per body list; all start together; (start, end, status) per request."""
    url = f"{runtime.base_url}/backend/api/v1{path}"
    barrier = threading.Barrier(len(bodies))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def worker(sequence):
        session = requests.Session()
        timings = []
        barrier.wait()
        for body in sequence:
            started = time.monotonic()
            answer = session.patch(url, json=body, headers=headers, timeout=30)
            timings.append((started, time.monotonic(), answer.status_code, answer.text))
        return timings

    with ThreadPoolExecutor(len(bodies)) as pool:
        return [t for result in pool.map(worker, bodies) for t in result]


def _overlapping_pairs(timings):
    spans = sorted((s, e) for s, e, _, _ in timings)
    return sum(1 for i, (s1, e1) in enumerate(spans) for s2, _ in spans[i + 1:] if s2 < e1)


def test_concurrent_customer_patches_lose_no_update(runtime):
    tenant, customer, _ = _in(runtime, lambda: _seed(runtime))
    bodies = [[{field: f"{field}-{n}"} for n in range(ROUNDS)] for field in FIELDS]
    timings = _race(runtime, tenant["user"]["api_key"], f"/customers/{customer['id']}", bodies)
    assert all(status == 200 for _, _, status, _ in timings), [t for t in timings if t[2] != 200][:3]
    assert _overlapping_pairs(timings) >= len(FIELDS)  # the requests really ran at the same time

    def stored():
        from chalicelib.store.dynamo.schema import CUSTOMER
        from chalicelib.store.dynamo import entities

        return entities.get_one(CUSTOMER, tenant["tenant"]["id"], customer["id"])

    record = _in(runtime, stored)
    for field in FIELDS:
        assert record[field] == f"{field}-{ROUNDS - 1}"
    # Every PATCH changed one field: one conditional write each, none overwritten.
    assert record["version"] == 1 + len(FIELDS) * ROUNDS


def test_concurrent_service_patches_lose_no_update(runtime):
    tenant, _, service = _in(runtime, lambda: _seed(runtime))
    fields = ("description", "reference", "quantity", "unitPrice", "startDate", "name")
    values = {"description": lambda n: f"d{n}", "reference": lambda n: f"r{n}", "quantity": lambda n: n + 10,
              "unitPrice": lambda n: f"{n}.5", "startDate": lambda n: f"2025-01-{n + 10:02d}",
              "name": lambda n: f"Trunk {n}"}
    bodies = [[{f: values[f](n)} for n in range(ROUNDS)] for f in fields]
    timings = _race(runtime, tenant["user"]["api_key"], f"/services/{service['id']}", bodies)
    assert all(status == 200 for _, _, status, _ in timings)
    assert _overlapping_pairs(timings) >= len(fields)

    def stored():
        from chalicelib.services.customers.items import SERVICES
        from chalicelib.store.dynamo import entities

        return entities.get_one(SERVICES.etype, tenant["tenant"]["id"], service["id"])

    record = _in(runtime, stored)
    assert record["description"] == f"d{ROUNDS - 1}" and record["quantity"] == ROUNDS + 9
    assert record["version"] == 1 + len(fields) * ROUNDS


def test_concurrent_drops_succeed_once(runtime):
    """The state check and the write are one conditional update: of eight
    simultaneous drops of one customer exactly one lands, the rest are 409."""
    tenant, customer, _ = _in(runtime, lambda: _seed(runtime))
    url = f"{runtime.base_url}/backend/api/v1/customers/{customer['id']}?action=drop"
    headers = {"Authorization": f"Bearer {tenant['user']['api_key']}"}
    barrier = threading.Barrier(8)

    def drop(n):
        session = requests.Session()
        barrier.wait()
        answer = session.post(url, json={"dateDrop": f"2025-01-{n + 10:02d}"}, headers=headers, timeout=30)
        return answer.status_code, answer.json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(drop, range(8)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * 7, answers
    assert all(body["error_code"] == 409003 for status, body in answers if status == 409)
    winner = next(body for status, body in answers if status == 200)
    final = requests.get(f"{runtime.base_url}/backend/api/v1/customers/{customer['id']}", headers=headers).json()
    assert final["dateDrop"] == winner["dateDrop"] and final["statusID"] == 2
