"""Monthly invoices: one per customer and month whatever the number of runs,
figures equal to the ledger statement, a PDF in S3 reachable by presigned URL."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
import time
from decimal import Decimal

import pytest
import requests

from chalicelib import clock
from chalicelib.domain.money import invoices as rules
from chalicelib.domain.money import ledger as ledger_rules
from chalicelib.domain.errors import ValidationError
from chalicelib.services.money import invoices
from chalicelib.services.money import ledger, ledger_reads
from chalicelib.store import blobs
from chalicelib.store.money import invoices as store
from tests.support.harness import events
from tests.support.worlds.money import admin, new_customer

MONTH = "2025-03"
MOVES = [  # (day, activity, amount)
    ("2025-02-27", ledger_rules.BANK_TRANSFER, "100.00000"),
    ("2025-03-02", ledger_rules.CALL_CHARGES_ACTIVITY, "-1.23457"),
    ("2025-03-02", ledger_rules.ORDER_NEW_DIDS, "-20.00001"),
    ("2025-03-17", ledger_rules.CREDIT_CARD, "7.77777"),
    ("2025-03-31", ledger_rules.ADJUSTMENT, "-0.00003"),
    ("2025-04-01", ledger_rules.CALL_CHARGES_ACTIVITY, "-5.00000"),
]


def _post(tenant_id, customer_id, moves):
    for n, (day, activity, amount) in enumerate(moves):
        with clock.frozen(f"{day}T12:00:{n:02d}"):
            ledger.post_movement(tenant=tenant_id, account=customer_id, activity=activity, amount=Decimal(amount),
                                 reference=f"r{n}", idempotency_key=f"k{n}-{day}")


@pytest.fixture()
def booked(tenant):
    principal = admin(tenant)
    t = tenant["tenant"]["id"]
    busy = new_customer(principal, name="Zoë Busy", credit_limit="-100")
    idle = new_customer(principal, name="Idle")  # never moves: no invoice
    _post(t, busy["id"], MOVES)
    return t, busy, idle


def test_running_twice_issues_one_invoice_equal_to_the_statement(booked):
    t, busy, idle = booked
    first = invoices.close_month(tenant=t, month=MONTH)
    assert first["done"] and first["issued"] == 1 and first["skipped"] == 1
    record = store.get_invoice(t, busy["id"], MONTH)
    pdf = blobs.get(t, record["pdfKey"])
    assert invoices.close_month(tenant=t, month=MONTH) == {"tenant": t, "month": MONTH, "done": True,
                                                           "issued": 0, "existing": 0, "skipped": 0, "failed": 0}
    # Even with the run's progress forgotten, the record's condition keeps it to one.
    from chalicelib import settings
    from chalicelib.store.dynamo.table import ddb
    from chalicelib.store.dynamo.codec import to_item
    ddb().delete_item(TableName=settings.main_table(), Key=to_item(store.run_key(t, MONTH)))
    again = invoices.close_month(tenant=t, month=MONTH)
    assert again["issued"] == 0 and again["existing"] == 1
    assert store.get_invoice(t, busy["id"], MONTH) == record
    assert blobs.get(t, record["pdfKey"]) == pdf
    assert store.get_invoice(t, idle["id"], MONTH) is None

    statement = ledger_reads.statement(tenant=t, account=busy["id"], first_day="2025-03-01", last_day="2025-03-31")
    assert record["opening"] == statement.opening_balance == Decimal("100")
    assert Decimal(record["closing"]) == statement.closing_balance == Decimal("86.54316")
    assert record["date"] == "2025-03-31" and record["lines"] == 4 and record["detail"] == "movements"
    assert pdf.startswith(b"%PDF")
    for text in (b"100.00000", b"-1.23457", b"-20.00001", b"7.77777", b"-0.00003", b"86.54316",
                 b"Opening balance", b"Closing balance", busy["accountNumber"].encode()):
        assert text in pdf, text
    assert b"-5.00000" not in pdf  # April's movement belongs to April's invoice


def test_lines_add_up_or_fall_back_to_categories(booked):
    t, busy, _ = booked
    statement = ledger_reads.statement(tenant=t, account=busy["id"], first_day="2025-03-01", last_day="2025-03-31")
    entries = ledger_reads.history(tenant=t, account=busy["id"], first_day="2025-03-01", last_day="2025-03-31")
    detailed = rules.build(tenant_name="T", customer=busy, month=MONTH, statement=statement, entries=entries)
    summary = rules.build(tenant_name="T", customer=busy, month=MONTH, statement=statement, entries=None)
    for invoice in (detailed, summary):
        assert invoice.opening + sum(line.amount for line in invoice.lines) == invoice.closing
    assert summary.detail == "categories" and [line.amount for line in summary.lines] == [
        Decimal("7.77777"), Decimal("-0.00003"), Decimal("-1.23457"), Decimal("-20.00001")]
    with pytest.raises(ValueError):  # a missing entry is caught, never invoiced
        rules.build(tenant_name="T", customer=busy, month=MONTH, statement=statement, entries=entries[1:])


def test_presigned_url_downloads_the_pdf_and_listing_is_by_date(booked, tenant):
    t, busy, _ = booked
    invoices.close_month(tenant=t, month=MONTH)
    record = store.get_invoice(t, busy["id"], MONTH)
    assert record["pdfKey"] == f"invoices/{busy['id']:012d}/{MONTH}.pdf"
    listed = invoices.list_invoices(principal=admin(tenant), customer=busy, first_day="2025-01-01",
                                    last_day="2025-12-31")
    assert [(i["month"], i["date"]) for i in listed] == [(MONTH, "2025-03-31")]
    # moto answers the presigned URL in-process: the bytes are the stored PDF.
    answer = requests.get(listed[0]["url"], timeout=10)
    assert answer.status_code == 200 and answer.content == blobs.get(t, record["pdfKey"])
    assert f"tenants/{t}/invoices/" in listed[0]["url"]
    assert invoices.list_invoices(principal=admin(tenant), customer=busy, first_day="2025-04-01",
                                  last_day="2025-12-31") == []
    assert invoices.list_invoices(principal=admin(tenant), customer=busy, first_day="2025-03-01",
                                  last_day="2025-03-30") == []


def test_a_stopped_run_resumes_after_the_last_page(tenant):
    principal = admin(tenant)
    t = tenant["tenant"]["id"]
    made = [new_customer(principal, name=f"C{n}") for n in range(3)]
    for n, customer in enumerate(made):
        _post(t, customer["id"], [("2025-05-10", ledger_rules.BANK_TRANSFER, f"{n + 1}.00000")])
    stopped = invoices.close_month(tenant=t, month="2025-05", deadline=time.monotonic() - 1, page_size=1)
    assert not stopped["done"] and stopped["issued"] == 1
    rest = invoices.close_month(tenant=t, month="2025-05", page_size=1)
    assert rest["done"] and rest["issued"] == 2
    assert all(store.get_invoice(t, c["id"], "2025-05") for c in made)


def test_an_open_month_is_refused(tenant):
    from datetime import date

    with pytest.raises(ValidationError):
        invoices.close_month(tenant=tenant["tenant"]["id"], month=date.today().isoformat()[:7])
    with pytest.raises(ValidationError):
        invoices.close_month(tenant=tenant["tenant"]["id"], month="2025-13")


def test_cli_and_schedule_run_the_same_job(booked):
    import io
    from contextlib import redirect_stdout

    from chalicelib.admin import cli

    t, busy, _ = booked
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(["--stage", "test", "run-job", "close-invoices", "--tenant", t, "--month", MONTH])
    assert status == 0 and json.loads(out.getvalue())["issued"] == 1
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(["--stage", "test", "run-job", "close-invoices", "--tenant", t, "--month", "2025-3"])
    assert status == 1 and json.loads(out.getvalue())["field"] == "month"
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli.main(["--stage", "test", "run-job", "close-invoices", "--tenant", t, "--month", MONTH,
                           "--account", busy["accountNumber"]])
    assert status == 0 and json.loads(out.getvalue())["outcome"] == "existing"
    # The schedule closes the month before today's (UTC), computed here independently,
    # through the same handler the deployed schedule invokes.
    from app import app
    from infra.local import schedules

    today = datetime.now(timezone.utc)
    last_month = (today.date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert invoices.month_to_close() == last_month
    event = schedules.scheduled_event("arn:aws:events:us-east-1:000000000000:rule/close", today)
    assert app.handler_map["close_invoices"](event, None)["month"] == last_month


def test_a_ledger_that_does_not_add_up_is_not_invoiced_and_blocks_no_one(booked, tenant):
    from chalicelib import settings
    from chalicelib.store.money import ledger as ledger_store
    from chalicelib.store.dynamo.codec import to_item
    from chalicelib.store.dynamo.table import ddb

    t, busy, _ = booked
    other = new_customer(admin(tenant), name="Other")
    _post(t, other["id"], [("2025-03-05", ledger_rules.BANK_TRANSFER, "3.00000")])
    lost = ledger_reads.history(tenant=t, account=busy["id"], first_day="2025-03-17", last_day="2025-03-17")[0]
    ddb().delete_item(TableName=settings.ledger_table(), Key=to_item(
        {"PK": ledger_store.ledger_pk(t, busy["id"]), "SK": ledger_store.entry_sk(lost["at"], lost["seq"])}))
    result = invoices.close_month(tenant=t, month=MONTH)
    assert result["failed"] == 1 and result["issued"] == 1 and result["done"]
    assert store.get_invoice(t, busy["id"], MONTH) is None and store.get_invoice(t, other["id"], MONTH)


def _queued_jobs(tenant_id):
    """Invoice-job messages of this tenant on the queue (received and deleted)."""
    from chalicelib.store import queues
    from chalicelib.store.clients import client

    sqs, url, found = client("sqs"), queues.queue_url("invoice_jobs"), []
    while True:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        messages = answer.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            body = json.loads(message["Body"])
            if body["tenant"] == tenant_id:
                found.append(body)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_the_schedule_queues_one_job_per_open_tenant(booked):
    from chalice.local import LambdaContext

    from app import app

    t, busy, _ = booked
    handler = app.handler_map["close_invoices"]
    result = handler(events.load("eventbridge_scheduled"), LambdaContext(function_name="close_invoices", memory_size=1024, max_runtime_ms=1000))
    assert result["month"] == invoices.month_to_close() and result["queued"] >= 1
    assert _queued_jobs(t) == [{"tenant": t, "month": invoices.month_to_close()}]
    # A tenant whose month is done gets no message.
    invoices.close_month(tenant=t, month=MONTH)
    invoices.fan_out(month=MONTH)
    assert _queued_jobs(t) == []


def test_the_consumer_closes_a_tenant_once_and_reports_only_bad_messages(booked):
    from chalicelib import workers

    t, busy, _ = booked
    job = {"tenant": t, "month": MONTH}
    batch = events.load("sqs_invoice_jobs", tenant=t, month=MONTH)  # a job, "not json", a job without its month
    ids = events.message_ids(batch)
    answer = workers.invoice_jobs(batch, None)  # Lambda's raw event
    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]}
    record = store.get_invoice(t, busy["id"], MONTH)
    assert record is not None
    # SQS delivers at least once: the same message again issues nothing.
    assert workers.invoice_jobs(events.sqs_event(job, job, like="sqs_invoice_jobs"), None) == {"batchItemFailures": []}
    assert store.get_invoice(t, busy["id"], MONTH) == record
    assert invoices.close_month(tenant=t, month=MONTH)["issued"] == 0


def test_a_job_out_of_time_queues_its_continuation(tenant, monkeypatch):
    t = tenant["tenant"]["id"]
    principal = admin(tenant)
    people = [new_customer(principal, name=f"C{n}") for n in range(3)]
    for n, person in enumerate(people):
        _post(t, person["id"], [("2025-03-0%d" % (n + 1), ledger_rules.BANK_TRANSFER, "1")])
    # No time at all: nothing done, the job re-queued.
    assert invoices.run_job(tenant=t, month=MONTH, deadline=time.monotonic() - 1)["continued"]
    assert [store.get_invoice(t, p["id"], MONTH) for p in people] == [None] * 3
    [job] = _queued_jobs(t)
    # Time for one page (of 2 customers): the clock passes the deadline after
    # it, so the rest is queued again; the continuation finishes the month.
    ticks = itertools.chain([0.0], itertools.repeat(10.0))
    monkeypatch.setattr(invoices.time, "monotonic", lambda: next(ticks))
    first = invoices.run_job(deadline=5.0, page_size=2, **job)
    monkeypatch.undo()
    assert (first["done"], first["issued"], first["continued"]) == (False, 2, True)
    [job] = _queued_jobs(t)
    assert invoices.run_job(page_size=2, **job)["issued"] == 1 and _queued_jobs(t) == []
    assert all(store.get_invoice(t, p["id"], MONTH) for p in people)


def test_invoices_get_integer_ids_and_old_records_are_numbered_once(booked, tenant):
    from chalicelib import settings
    from chalicelib.store.dynamo import entities
    from chalicelib.store.dynamo.codec import to_item
    from chalicelib.store.dynamo.table import ddb

    t, busy, idle = booked
    invoices.close_month(tenant=t, month=MONTH)
    record = store.get_invoice(t, busy["id"], MONTH)
    entity = entities.get_one(invoices.INVOICE, t, record["id"])
    assert entity["customerId"] == busy["id"] and entity["month"] == MONTH and entity["closing"] == record["closing"]
    # April, then forget its id as if it had been issued before invoices had ids.
    _post(t, busy["id"], [("2025-05-02", ledger_rules.ADJUSTMENT, "1")])
    invoices.close_month(tenant=t, month="2025-04")
    april = store.get_invoice(t, busy["id"], "2025-04")
    ddb().update_item(TableName=settings.ledger_table(), Key=to_item(store.invoice_key(t, busy["id"], "2025-04")),
                      UpdateExpression="REMOVE id")
    ddb().delete_item(TableName=settings.main_table(),
                      Key=to_item({"PK": f"T#{t}#INVOICE", "SK": f"{april['id']:012d}"}))
    assert invoices.number_invoices(tenant=t) == {"tenant": t, "numbered": 1, "already": 1}
    assert invoices.number_invoices(tenant=t) == {"tenant": t, "numbered": 0, "already": 2}
    renumbered = store.get_invoice(t, busy["id"], "2025-04")["id"]
    assert renumbered > april["id"]
    listed = entities.list_page(invoices.INVOICE, t, entities.Page(), parent_id=busy["id"])
    assert [(i["id"], i["month"]) for i in listed] == [(record["id"], MONTH), (renumbered, "2025-04")]
