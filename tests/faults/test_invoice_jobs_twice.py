"""The invoice-jobs consumer gets every message twice and out of order (SQS
is at-least-once and unordered; the schedule fires every hour on the 1st and
2nd and may fire twice at once): each invoice is issued once, its PDF written
once, nothing is posted to a ledger. In process, through the deployed handler
(``app.handler_map``), beside the CDR file consumer's case in
test_consumers_twice.py."""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any, Iterator

import pytest
from chalice.local import LambdaContext

from chalicelib import clock
from tests.support.harness import events
from tests.support.worlds.money import admin, assert_balance_is_ledger_sum, ledger_entries, new_customer

MONTHS = ("2025-01", "2025-02", "2025-03")
BATCH_SIZE = 5  # the event source's batch size (chalicelib/workers/__init__.py)


def _invoke(name: str, event: dict[str, Any], *, max_runtime_ms: int = 900_000) -> Any:
    from app import app

    context = LambdaContext(function_name=f"dialtone-test-{name}", memory_size=1024, max_runtime_ms=max_runtime_ms)
    return app.handler_map[name](event, context)


@pytest.fixture()
def pdf_puts() -> Iterator[dict[str, list[bytes]]]:
    """Every PutObject the store's S3 clients send: key -> the bodies, in order
    (botocore's before-parameter-build event: nothing of Dialtone's is replaced)."""
    from chalicelib.store.clients import client

    puts: dict[str, list[bytes]] = defaultdict(list)

    def seen(params: dict[str, Any], **kwargs: Any) -> None:
        assert isinstance(params["Body"], bytes), params["Key"]  # an invoice's PDF is rendered whole
        puts[params["Key"]].append(params["Body"])

    clients = [client("s3"), client("s3", unsigned_payload=True)]
    for s3 in clients:
        s3.meta.events.register("before-parameter-build.s3.PutObject", seen, unique_id="test-invoice-pdf-puts")
    yield puts
    for s3 in clients:
        s3.meta.events.unregister("before-parameter-build.s3.PutObject", unique_id="test-invoice-pdf-puts")


def _books(tenant: dict[str, Any]) -> dict[str, Any]:
    """Two customers that move (one every month, one only in the first: its
    later invoices carry just its balance) and one that never does."""
    from chalicelib.domain.money import ledger as rules
    from chalicelib.services.money import ledger

    t, principal = tenant["tenant"]["id"], admin(tenant)
    busy, quiet = (new_customer(principal, name=name, credit_limit="-1000") for name in ("Busy", "Quiet"))
    idle = new_customer(principal, name="Idle")
    moves = [(busy, month, day, amount) for month in MONTHS for day, amount in (("03", "50"), ("21", "-1.23457"))]
    moves.append((quiet, MONTHS[0], "09", "-7.5"))
    for n, (customer, month, day, amount) in enumerate(moves):
        with clock.frozen(f"{month}-{day}T08:00:{n:02d}"):
            ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ADJUSTMENT, amount=Decimal(amount),
                                 reference=f"r{n}", idempotency_key=f"k{n}")
    return {"id": t, "moved": [busy, quiet], "idle": idle}


def _scheduled_jobs() -> list[dict[str, Any]]:
    """The schedule fired twice at the same time on the 1st of each month
    after MONTHS[0]'s: every job it queued (received and deleted)."""
    from chalicelib.store import queues
    from chalicelib.store.clients import client

    for month in MONTHS:
        year, number = map(int, month.split("-"))
        with clock.frozen(f"{year + number // 12}-{number % 12 + 1:02d}-01T00:05:00"):
            for _ in range(2):
                assert _invoke("close_invoices", events.load("eventbridge_scheduled"))["month"] == month
    sqs, url, bodies = client("sqs"), queues.queue_url("invoice_jobs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_the_invoice_job_consumer_given_each_job_twice_out_of_order_issues_each_invoice_once(
        tenant: dict[str, Any], pdf_puts: dict[str, list[bytes]]) -> None:
    from chalicelib import settings
    from chalicelib.domain.money import ledger as ledger_rules
    from chalicelib.services.identity import users
    from chalicelib.services.money import ledger_reads
    from chalicelib.store.clients import client
    from chalicelib.store.dynamo import entities
    from chalicelib.store.dynamo.schema import INVOICE
    from chalicelib.store.money import invoices as store

    books = [_books(tenant), _books(users.create_tenant(name="Other Tenant"))]
    entries_before = {(b["id"], c["id"]): len(ledger_entries(b["id"], c["id"])) for b in books for c in b["moved"]}
    jobs = _scheduled_jobs()
    # the schedule's own duplicates: each (tenant, month) queued twice
    assert Counter(json.dumps(j, sort_keys=True) for j in jobs) == {
        json.dumps({"month": m, "tenant": b["id"]}, sort_keys=True): 2 for b in books for m in MONTHS}
    # SQS delivers each of those twice: the second round in reverse, and the
    # batches of 5 cut across rounds (a job and its repeat in one batch)
    deliveries = jobs + jobs[::-1]
    for start in range(0, len(deliveries), BATCH_SIZE):
        batch = events.sqs_event(*deliveries[start:start + BATCH_SIZE], like="sqs_invoice_jobs")
        assert _invoke("invoice_jobs", batch) == {"batchItemFailures": []}

    for book in books:
        t, expected_keys = book["id"], set()
        for month in MONTHS:
            assert (store.get_run(t, month) or {}).get("done"), (t, month)
            first, last = ledger_rules.month_bounds(month)
            assert store.get_invoice(t, book["idle"]["id"], month) is None
            for customer in book["moved"]:
                record = store.get_invoice(t, customer["id"], month)
                assert record is not None, (t, customer["id"], month)
                statement = ledger_reads.statement(tenant=t, account=customer["id"], first_day=first, last_day=last)
                assert Decimal(str(record["closing"])) == statement.closing_balance
                full_key = f"tenants/{t}/{record['pdfKey']}"
                expected_keys.add(full_key)
                # the PDF written once, and what S3 holds is what was written
                assert len(pdf_puts[full_key]) == 1, (full_key, len(pdf_puts[full_key]))
                stored = client("s3").get_object(Bucket=settings.blob_bucket(), Key=full_key)["Body"].read()
                assert stored == pdf_puts[full_key][0]
        # one invoice entity (one id) per customer and month, the record's
        numbered = list(entities.every(INVOICE, t))
        assert Counter((i["customerId"], i["month"]) for i in numbered) == {
            (c["id"], m): 1 for c in book["moved"] for m in MONTHS}
        for invoice in numbered:
            record = store.get_invoice(t, invoice["customerId"], invoice["month"])
            assert record is not None and record["id"] == invoice["id"]
        # no PDF without its invoice
        listed = client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=f"tenants/{t}/")
        assert {o["Key"] for o in listed.get("Contents", [])} == expected_keys
        # closing months posts nothing: the ledgers are as they were, and add up
        for customer in book["moved"]:
            assert len(ledger_entries(t, customer["id"])) == entries_before[(t, customer["id"])]
            assert_balance_is_ledger_sum(t, customer["id"])
