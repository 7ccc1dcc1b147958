"""The embedded default loses nothing on a restart (issue 15): files put and
orders queued before a SIGTERM, and orders being processed when every process
is SIGKILLed, are all there after a start on the same data directory. Every
object byte for byte, every order complete exactly once (one ledger entry),
every balance equal to its ledger sum.

Its own runtime (not the session's): it runs on a data directory and is
stopped and killed on purpose. The queues' visibility timeout is shortened
so that the messages in flight at the SIGKILL come back within seconds.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.harness.runtime import LocalRuntime

ORDERS = 16  # two numbers each, over two customers
BEFORE_SIGTERM = 4
VISIBILITY_SECONDS = 3


def _shop() -> dict[str, Any]:
    from chalicelib.services.numbers import orders, trunks
    from chalicelib.services.numbers import reservations
    from tests.support.surfaces.carrier import landlines, make_shop
    from tests.support.worlds.money import admin

    shop = make_shop(landlines("206219", ORDERS * 2), credit_limit="-100000")
    principal = admin({"user": {"api_key": shop.admin_key}})
    customers = [{"id": c, "accountNumber": a} for c, a in zip(shop.customer_ids, shop.accounts)]
    trunk_ids = [trunks.define_origination(principal=principal, customer=customer, params={
        "title": "t", "primaryTrunk": "203.0.113.9", "billingType": "Metered"})["id"] for customer in customers]
    order_ids: list[int] = []
    for n in range(ORDERS):
        customer = customers[n % 2]
        cart = reservations.reserve_numbers(principal=principal, customer=customer,
                                         numbers=[f"206219{2 * n:04d}", f"206219{2 * n + 1:04d}"])
        order_ids.append(orders.generate_order(principal=principal, customer=customer,
                                               reserve_id=cart["reserveId"], trunk_id=trunk_ids[n % 2])["id"])
    return {"shop": shop, "principal": principal, "orders": order_ids}


def _put_files(tenant: str) -> dict[str, bytes]:
    from chalicelib.store import blobs

    files = {"attachments/contract.pdf": os.urandom(3 * 1024 * 1024 + 17),
             "cdrs/2026-12-01.csv": b"".join(f"2026-12-01T00:00:{n % 60:02d}Z,2062190000,1425555{n:04d},61\n".encode()
                                             for n in range(20_000))}
    for key, data in files.items():
        blobs.put(tenant, key, data, content_type="application/octet-stream")
    return files


def _queue(world: dict[str, Any], order_ids: list[int]) -> None:
    from chalicelib.services.numbers import orders

    shop = world["shop"]
    for order_id in order_ids:
        n = world["orders"].index(order_id)
        orders.queue_order(principal=world["principal"], customer={"id": shop.customer_ids[n % 2]}, order_id=order_id)


def _statuses(world: dict[str, Any]) -> Counter[str]:
    from chalicelib.store.dynamo import entities, schema

    tenant = world["shop"].tenant
    return Counter(entities.get_one(schema.ORDER, tenant, order_id)["status"] for order_id in world["orders"])


def _wait_until(runtime: LocalRuntime, world: dict[str, Any], done: int, *, timeout: float = 90.0) -> Counter[str]:
    deadline = time.monotonic() + timeout
    while True:
        with runtime.environment():
            statuses = _statuses(world)
        if statuses["complete"] >= done or time.monotonic() > deadline:
            return statuses
        time.sleep(0.05)


def _check_files(runtime: LocalRuntime, tenant: str, files: dict[str, bytes]) -> None:
    from chalicelib.store import blobs

    with runtime.environment():
        for key, data in files.items():
            assert blobs.get(tenant, key) == data, key


def test_files_and_orders_survive_a_sigterm_and_a_sigkill_mid_work(tmp_path: Path) -> None:
    runtime = LocalRuntime(data_dir=tmp_path / "data", visibility_timeout=VISIBILITY_SECONDS, keep_logs=True)
    try:
        runtime.start()
        with runtime.environment():
            world = _shop()
            tenant = world["shop"].tenant
            files = _put_files(tenant)
            _queue(world, world["orders"][:BEFORE_SIGTERM])
        runtime.stop()  # SIGTERM, with the first orders queued or being processed

        runtime.start()
        _check_files(runtime, tenant, files)
        assert _wait_until(runtime, world, BEFORE_SIGTERM)["complete"] == BEFORE_SIGTERM
        with runtime.environment():
            _queue(world, world["orders"][BEFORE_SIGTERM:])
        at_kill = _wait_until(runtime, world, BEFORE_SIGTERM + 1)
        runtime.kill()  # every process at once, with orders in flight
        assert at_kill["complete"] < ORDERS, f"the orders were all done before the SIGKILL: {at_kill}"

        runtime.start()
        _check_files(runtime, tenant, files)
        assert _wait_until(runtime, world, ORDERS) == Counter({"complete": ORDERS})
        with runtime.environment():
            _check_exactly_once(world)
    finally:
        runtime.stop()


def _check_exactly_once(world: dict[str, Any]) -> None:
    from chalicelib import settings
    from chalicelib.domain.money.amounts import as_money
    from chalicelib.services.numbers import order_charges, orders
    from chalicelib.store.money import ledger
    from chalicelib.store.numbers import inventory as number_store
    from chalicelib.store.dynamo import entities, schema
    from chalicelib.store.dynamo.table import query_pages
    from tests.support.worlds.money import ledger_sum

    shop = world["shop"]
    tenant = shop.tenant
    owed: dict[int, Decimal] = {c: as_money(0) for c in shop.customer_ids}
    for order_id in world["orders"]:
        order = entities.get_one(schema.ORDER, tenant, order_id)
        owed[order["customerId"]] += as_money(order["amount"])
        for number in order["numbers"]:
            item = number_store.get_number(tenant, number)
            assert (item["status"], item["customerId"], item["orderId"]) == ("active", order["customerId"], order_id)
    for customer_id in shop.customer_ids:
        references: Counter[str] = Counter()
        for page in query_pages(settings.ledger_table(), key_condition="PK = :pk AND begins_with(SK, :e)",
                                values={":pk": ledger.ledger_pk(tenant, customer_id), ":e": "E#"}, consistent=True):
            references.update(str(entry.get("reference")) for entry in page)
        charged = {reference for reference in references if reference.startswith("order:")}
        assert references and max(references.values()) == 1, references  # no order charged twice
        assert len(charged) == ORDERS // 2
        balance = order_charges.balance_of(tenant=tenant, customer_id=customer_id)
        assert balance == ledger_sum(tenant, customer_id) == -owed[customer_id]
