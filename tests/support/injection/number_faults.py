"""The number sale as a carrier API client lives it, for the fault sweeps:
reserve, order, process (each with its own Idempotency-Key, retried with it
until answered), then the order worker and the reservation sweeper; and the
invariants over the tenant's numbers, orders and ledger."""
from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from chalicelib import clock
from tests.support.surfaces.carrier import Carrier, chalice_sender, landlines, make_shop
from tests.support.injection.fault_sweep import full_sweep
from tests.support.worlds.money import assert_balance_is_ledger_sum, ledger_entries

NPANXX = "206310"
# Each faulted run sells one number (the sweeper gives back what a lost answer held).
STOCK = 240 if full_sweep() else 40
TRUNK = {"title": "faults", "primaryTrunk": "203.0.113.10", "primaryPrefix": "1234", "primaryPort": "5060",
         "billingType": "Unmetered", "sessions": "20", "mou": "Unlimited"}
STEPS = ("bulkreserve", "gen_order", "process_order")


class Shop:
    """A tenant with STOCK landlines and two customers with a trunk each."""

    def __init__(self, client: Any, lambdas: Any) -> None:
        self.client, self.lambdas = client, lambdas
        self.shop = make_shop(landlines(NPANXX, STOCK), customers=2)
        self.apis = [Carrier(chalice_sender(client), self.shop.keys[a], a) for a in self.shop.accounts]
        self.trunks = []
        for api in self.apis:
            status, body = api("defineTrunk", **TRUNK)
            assert status == 200, body
            self.trunks.append(body["tg_id"])

    def step(self, ctx: dict[str, Any], name: str) -> int:
        """One request of the sale; its answer fills ``ctx``."""
        api = self.apis[ctx["who"]]
        headers = {"Idempotency-Key": ctx["keys"][name]}
        if name == "bulkreserve":
            status, body = api(name, headers=headers, category="landline", state="WA", quantity="1")
            if status == 200:
                ctx["rid"], ctx["tns"] = body["reserveId"], body["TNs"]
        elif name == "gen_order":
            status, body = api(name, headers=headers, reserveId=ctx["rid"], trunk_id=self.trunks[ctx["who"]])
            if status == 200:
                ctx["order"] = body["orderId"]
        else:
            status, body = api(name, headers=headers, orderId=ctx["order"])
        return int(status)

    def new_sale(self, n: int) -> dict[str, Any]:
        return {"who": n % 2, "keys": {s: uuid.uuid4().hex for s in STEPS}, "rid": None, "order": None,
                "done": 0}

    def sell(self, ctx: dict[str, Any]) -> int | None:
        """The steps not done yet, in order; stops at the first that is not answered 200."""
        while ctx["done"] < len(STEPS):
            status = self.step(ctx, STEPS[ctx["done"]])
            if status != 200:
                return status
            ctx["done"] += 1
        return None

    def retry(self, ctx: dict[str, Any]) -> None:
        """What a client does after a failed step: send it again with its key;
        a key still held by a request that died is free once its lock has
        passed (422 until then); an order made by a request whose answer was
        lost is found among the customer's orders by its reservation."""
        from chalicelib.store.idempotency import LOCK_SECONDS

        if self.sell(ctx) is None:
            return
        with clock.frozen(clock.now() + timedelta(seconds=LOCK_SECONDS + 1)):
            status = self.sell(ctx)
            if status == 404 and STEPS[ctx["done"]] == "gen_order":
                _, body = self.apis[ctx["who"]]("get_new_orders")
                [order] = [o for o in body["Orders"] if set(ctx["tns"]) <= set(o["numbers"])]
                ctx["order"], ctx["done"] = order["orderno"], ctx["done"] + 1
                status = self.sell(ctx)
        assert status is None, f"the client's retry did not converge: {status} {ctx}"

    def deliver(self) -> list[str]:
        """The order queue's messages, taken off the queue as Lambda's poller does."""
        from chalicelib.store import queues
        from chalicelib.store.clients import client as aws_client

        sqs, url, bodies = aws_client("sqs"), queues.queue_url("orders"), []
        while True:
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not received:
                return bodies
            for message in received:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                bodies.append(message["Body"])

    def run_worker(self, bodies: list[str]) -> Any:
        if not bodies:
            return {"batchItemFailures": []}
        event = self.lambdas.events.generate_sqs_event(queue_name="dialtone-test-orders", message_bodies=bodies)
        return self.lambdas.lambda_.invoke("order_worker", event).payload

    def sweep_expired(self) -> None:
        from chalicelib.services.numbers import reservations

        with clock.frozen(clock.now() + timedelta(days=1)):
            reservations.sweep_all(tenants=[self.shop.tenant])

    def check(self, *, settled: bool) -> None:
        """No number with two owners; each order charged once and its numbers
        the customer's; balances equal ledger sums. ``settled``: every cart has
        been ordered or swept, so each number is either sold or available again,
        and the available counter counts exactly the available numbers."""
        from chalicelib.store.dynamo import keys
        from chalicelib.store.numbers import inventory as numbers
        from chalicelib.store.numbers import orders as order_store
        from chalicelib.store.numbers import owned as owned_store

        tenant = self.shop.tenant
        owners: dict[str, int] = {}
        for customer in self.shop.customer_ids:
            for item in owned_store.owned(tenant, customer):
                assert item["number"] not in owners, f"{item['number']} has two owners"
                owners[item["number"]] = customer
        items = numbers.existing(tenant, [f"{NPANXX}{n:04d}" for n in range(STOCK)])
        for number, item in items.items():
            if item["status"] == "active":
                assert owners.get(number) == item["customerId"], item
            else:
                assert number not in owners, item
        for n, customer in enumerate(self.shop.customer_ids):
            assert_balance_is_ledger_sum(tenant, customer)
            charges: dict[str, Decimal] = {}
            for entry in ledger_entries(tenant, customer):
                assert entry["reference"] not in charges, f"{entry['reference']} charged twice"
                charges[entry["reference"]] = Decimal(str(entry["amount"]))
            for order in order_store.orders_of(tenant, customer, limit=1000):
                charged = charges.get(f"order:{order['id']}")
                if order["status"] in ("charged", "complete"):
                    assert charged == -Decimal(str(order["amount"])), (order["id"], charged)
                else:
                    assert charged is None, (order, charged)
                if order["status"] == "complete":
                    assert all(owners.get(x) == customer for x in order["numbers"]), order
                if settled:
                    assert order["status"] == "complete", order
        if settled:
            available = sum(1 for i in items.values() if i["status"] == "available")
            assert available + len(owners) == STOCK, (available, len(owners))
            counter = keys.npanxx_counter_sk("WA", NPANXX)
            count = {c["SK"]: int(c["count"]) for c in numbers.counters(tenant, "")}[counter]
            assert count == available, (count, available)
