"""The app's event handlers, called as Lambda calls them with the events AWS
really sends (tests/events): SQS batches, an S3 notification through SQS,
EventBridge schedules and a CloudWatch Logs subscription."""
from __future__ import annotations

import importlib
from datetime import timedelta
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

from chalice.app import SQSEventConfig
from chalice.local import LambdaContext

from app import app
from chalicelib import clock
from tests.support.harness import events
from tests.support.worlds.cdrs import HEADER

SQS_CONSUMERS = {"order_worker": 10, "cdr_files": 1, "invoice_jobs": 5, "voice_calls": 1, "voice_webhooks": 10}
SCHEDULES = {"reservation_sweeper", "cdr_daily_close", "reconcile_payments", "close_invoices",
             "settle_pending_files"}


def invoke(name: str, event: dict[str, Any]) -> Any:
    context = LambdaContext(function_name=f"dialtone-test-{name}", memory_size=1024, max_runtime_ms=60_000)
    return app.handler_map[name](event, context)


def test_every_handler_keeps_its_deployed_name_and_a_handler_string_lambda_can_import() -> None:
    sources = {source.name: source for source in app.event_sources}
    assert set(sources) == set(SQS_CONSUMERS) | SCHEDULES
    assert {name: s.batch_size for name, s in sources.items() if isinstance(s, SQSEventConfig)} == SQS_CONSUMERS
    assert "audit_ingest" in app.handler_map
    for source in sources.values():
        module, _, function = source.handler_string.rpartition(".")
        handler = getattr(importlib.import_module(module), function)
        # A submodule named like a handler would shadow it as the package's attribute.
        assert callable(handler) and not isinstance(handler, ModuleType), source.handler_string


def test_the_order_worker_reports_only_the_message_that_failed(tenant: dict[str, Any]) -> None:
    event = events.load("sqs_orders", tenant=tenant["tenant"]["id"])
    ids = events.message_ids(event)
    # Orders 900001 and 900002 do not exist (nothing to do); the second message has no orderId.
    assert invoke("order_worker", event) == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}


def test_cdr_files_ingests_the_object_an_s3_notification_names(tenant: dict[str, Any]) -> None:
    from chalicelib.auth import api_key
    from chalicelib.services.calls import inbox, uploads

    t = tenant["tenant"]["id"]
    key = inbox.upload_to_inbox(tenant=t, name="switch-a_2026-03-01.csv", body=(HEADER + "\n").encode())
    event = events.load("s3_object_created_via_sqs", key=quote_plus(key))  # S3 URL-encodes the key
    assert invoke("cdr_files", event) == {"batchItemFailures": []}
    principal = api_key.authenticate(tenant["user"]["api_key"], None)
    status = uploads.upload_status(principal=principal, file_name="switch-a_2026-03-01.csv")
    assert status["state"] == "done" and status["summary"]["rows"] == 0


def test_a_notification_that_cannot_be_read_is_reported_for_retry(tenant: dict[str, Any]) -> None:
    event = events.load("s3_object_created_via_sqs", key="x")
    event["Records"][0]["body"] = event["Records"][0]["body"][:-2]  # cut short
    assert invoke("cdr_files", event) == {"batchItemFailures": [{"itemIdentifier": events.message_ids(event)[0]}]}


def test_audit_ingest_stores_the_audit_lines_of_a_log_subscription(aws: None) -> None:
    from chalicelib.services.common import audit

    assert invoke("audit_ingest", events.load("cloudwatch_logs_subscription")) == {"ingested": 1}
    # Delivered twice: still one record (keyed by request id).
    assert invoke("audit_ingest", events.load("cloudwatch_logs_subscription")) == {"ingested": 1}
    with clock.frozen("2026-03-01T12:00:00Z"):  # the default listing window ends now
        [record] = audit.list_entries(tenant="canned-events-tenant")
    assert record["requestId"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" and record["status"] == 200
    # CloudWatch checking the destination: nothing to store.
    assert invoke("audit_ingest", events.load("cloudwatch_logs_control")) == {"ingested": 0}


def test_the_reservation_sweeper_releases_carts_whose_hold_has_passed(aws: None) -> None:
    from chalicelib.domain.numbers import inventory as rules
    from chalicelib.domain.identity import principal_from_user
    from chalicelib.services.identity import users
    from chalicelib.services.numbers import reservations
    from tests.support.surfaces.carrier import landlines, make_shop

    shop = make_shop(landlines("206219", 5), customers=1)
    principal = principal_from_user(users.find_user(tenant=shop.tenant, user=f"u0-{shop.tenant}"), shop.tenant)
    criteria = rules.Criteria(category=rules.LANDLINE, state="WA", npanxx="206219")
    reservations.bulk_reserve(principal=principal, customer={"id": shop.customer_ids[0]}, criteria=criteria, quantity=3)
    scheduled = events.load("eventbridge_scheduled")
    assert invoke("reservation_sweeper", scheduled) == {"released": {}}  # still held
    with clock.frozen(clock.now() + timedelta(minutes=reservations.hold_minutes(), seconds=1)):
        assert invoke("reservation_sweeper", scheduled) == {"released": {shop.tenant: 3}}


def test_reconcile_payments_runs_on_the_schedule(aws: None) -> None:
    answer = invoke("reconcile_payments", events.load("eventbridge_scheduled"))
    assert set(answer) == {"approved", "declined", "still_unknown", "failed"}


def test_the_local_runtime_fires_schedules_with_eventbridges_payload() -> None:
    from datetime import datetime, timezone

    from infra.local import schedules

    canned = events.load("eventbridge_scheduled")
    local = schedules.scheduled_event(canned["resources"][0], datetime(2026, 3, 1, 8, 5, tzinfo=timezone.utc))
    assert {**local, "id": canned["id"]} == canned


def test_the_voice_consumers_report_only_the_message_that_failed(tenant: dict[str, Any]) -> None:
    # A call that does not exist is nothing to run; a message without a call id fails alone.
    event = events.sqs_event({"tenant": tenant["tenant"]["id"], "call": 999999}, {"tenant": tenant["tenant"]["id"]})
    ids = events.message_ids(event)
    assert invoke("voice_calls", event) == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    flush = events.sqs_event({"tenant": tenant["tenant"]["id"], "call": 1, "hook": 1}, {"hook": 1})
    ids = events.message_ids(flush)
    assert invoke("voice_webhooks", flush) == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
