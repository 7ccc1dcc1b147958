"""At-least-once delivery and overlapping schedules, against DynamoDB Local
(moto does not serialise concurrent transactions): the order worker gets every
message twice, out of order, from two overlapping invocations; the reservation
sweeper and the payment reconciliation each run twice at the same time. Each
effect happens once."""
from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from decimal import Decimal

from chalicelib import clock
from tests.support.surfaces.carrier import landlines, make_shop
from tests.support.harness.concurrency import run_concurrently


def _sqs_event(bodies: list[str], queue: str) -> dict:
    return {"Records": [{"messageId": uuid.uuid4().hex, "receiptHandle": uuid.uuid4().hex, "body": body,
                         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                         "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{queue}",
                         "awsRegion": "us-east-1"} for body in bodies]}


def test_the_order_worker_given_each_message_twice_out_of_order_at_once_charges_once(runtime):
    with runtime.environment():
        from chalicelib.domain.identity import principal_from_user
        from chalicelib.domain.numbers import inventory as rules
        from chalicelib.services.identity import users
        from chalicelib.services.numbers import orders, reservations, trunks
        from chalicelib.store.numbers import orders as order_store
        from chalicelib.workers import orders as worker
        from tests.support.worlds.money import assert_balance_is_ledger_sum, ledger_entries

        shop = make_shop(landlines("206330", 12), customers=3)
        bodies = []
        for n, customer_id in enumerate(shop.customer_ids):
            user = users.find_user(tenant=shop.tenant, user=f"u{n}-{shop.tenant}")
            principal = principal_from_user(user, shop.tenant)
            customer = {"id": customer_id, "accountNumber": shop.accounts[n]}
            trunk = trunks.define_origination(principal=principal, customer=customer, params={
                "title": "t", "primaryTrunk": "203.0.113.10", "primaryPrefix": "1234", "primaryPort": "5060",
                "billingType": "Unmetered", "sessions": "20", "mou": "Unlimited"})
            cart = reservations.bulk_reserve(principal=principal, customer=customer, quantity=2,
                                          criteria=rules.Criteria(category=rules.LANDLINE, state="WA"))
            order = orders.generate_order(principal=principal, customer=customer, reserve_id=cart["reserveId"],
                                          trunk_id=trunk["id"])
            bodies.append(json.dumps({"tenant": shop.tenant, "orderId": order["id"]}))

        def deliver(n: int) -> dict:
            # each invocation gets every message, in its own order, one of them twice
            mine = list(reversed(bodies)) if n % 2 else bodies[1:] + bodies[:1]
            return worker.handle(_sqs_event(mine + mine[:1], "dialtone-orders"))

        answers, peak = run_concurrently(4, deliver)
        assert peak > 1, "the invocations never overlapped"
        failed = [f for a in answers for f in a["batchItemFailures"]]
        if failed:  # a lost race is reported for redelivery, which then finds the work done
            assert worker.handle(_sqs_event(bodies, "dialtone-orders")) == {"batchItemFailures": []}
        for n, customer_id in enumerate(shop.customer_ids):
            [order] = order_store.orders_of(shop.tenant, customer_id, limit=10)
            assert order["status"] == "complete"
            entries = [e for e in ledger_entries(shop.tenant, customer_id) if e["reference"] == f"order:{order['id']}"]
            assert len(entries) == 1 and Decimal(str(entries[0]["amount"])) == -Decimal(str(order["amount"]))
            assert_balance_is_ledger_sum(shop.tenant, customer_id)


def test_the_reservation_sweeper_run_twice_at_once_releases_each_number_once(runtime):
    with runtime.environment():
        from chalicelib.domain.identity import principal_from_user
        from chalicelib.domain.numbers import inventory as rules
        from chalicelib.services.identity import users
        from chalicelib.services.numbers import reservations as carts
        from chalicelib.store.dynamo import keys
        from chalicelib.store.numbers import inventory as store
        from chalicelib.workers import reservations

        shop = make_shop(landlines("206331", 40), customers=2)
        for n, customer_id in enumerate(shop.customer_ids):
            user = users.find_user(tenant=shop.tenant, user=f"u{n}-{shop.tenant}")
            carts.bulk_reserve(principal=principal_from_user(user, shop.tenant),
                                   customer={"id": customer_id, "accountNumber": shop.accounts[n]}, quantity=15,
                                   criteria=rules.Criteria(category=rules.LANDLINE, state="WA"))
        later = clock.now() + timedelta(days=1)

        def sweep(_: int) -> dict:
            with clock.frozen(later):
                return reservations.sweep()

        answers, peak = run_concurrently(2, sweep)
        assert peak > 1, "the runs never overlapped"
        assert sum(a["released"].get(shop.tenant, 0) for a in answers) == 30  # each number released by one run
        counter = keys.npanxx_counter_sk("WA", "206331")
        assert {c["SK"]: int(c["count"]) for c in store.counters(shop.tenant, "")}[counter] == 40
        assert all(i["status"] == "available" for i in store.existing(
            shop.tenant, [f"206331{n:04d}" for n in range(40)]).values())


def test_the_payment_reconciliation_run_twice_at_once_credits_once(runtime):
    with runtime.environment():
        from chalicelib.adapters.payments import TIMEOUT_CARD
        from chalicelib.auth import api_key
        from chalicelib.domain.money.cards import parse_card
        from chalicelib.services.money import payments
        from chalicelib.workers import payments as worker
        from tests.support.worlds.money import assert_balance_is_ledger_sum

        shop = make_shop(landlines("206332", 1), customers=1)
        principal = api_key.authenticate(shop.keys[shop.accounts[0]], "127.0.0.1")
        customer = {"id": shop.customer_ids[0], "accountNumber": shop.accounts[0], "balance": 0}
        card = parse_card(number=TIMEOUT_CARD, exp_month="12", exp_year=str(date.today().year + 1), cvv="123",
                          first_name="A", last_name="B")
        made = [payments.make_payment(principal=principal, customer=customer, card=card, amount="5",
                                      idempotency_key=uuid.uuid4().hex) for _ in range(3)]
        assert {p["status"] for p in made} == {"unknown"}  # the gateway did not answer: reconciliation settles

        def reconcile(_: int) -> dict:
            return worker.reconcile()

        answers, peak = run_concurrently(2, reconcile)
        assert peak > 1, "the runs never overlapped"
        assert sum(a["approved"] for a in answers) >= 3
        assert assert_balance_is_ledger_sum(shop.tenant, shop.customer_ids[0]) == Decimal("15")


def test_the_invoice_close_run_twice_at_once_issues_one_invoice_each(runtime):
    with runtime.environment():
        from chalicelib.domain.money import ledger as rules
        from chalicelib.services.money import invoices, ledger
        from chalicelib.store.money import invoices as store

        shop = make_shop(landlines("206333", 1), customers=4)
        month = "2025-03"
        for n, customer_id in enumerate(shop.customer_ids):
            with clock.frozen(f"{month}-1{n}T12:00:00"):
                ledger.post_movement(tenant=shop.tenant, account=customer_id, activity=rules.ADJUSTMENT,
                                     amount=Decimal("-2.5"), reference="r", idempotency_key=f"k{n}")

        def close(_: int) -> dict:
            return invoices.close_month(tenant=shop.tenant, month=month)

        answers, peak = run_concurrently(2, close)
        assert peak > 1, "the runs never overlapped"
        assert all(a["done"] for a in answers)
        assert sum(a["issued"] for a in answers) == 4  # each invoice issued by one run
        for customer_id in shop.customer_ids:
            record = store.get_invoice(shop.tenant, customer_id, month)
            assert record is not None and Decimal(str(record["closing"])) == Decimal("-2.5")
