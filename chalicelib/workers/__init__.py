"""Every event handler, on one blueprint: SQS consumers, schedules and the log
subscription. A registration names the Lambda function (deployed as
``dialtone-<stage>-<name>``), its trigger, and the module that does the work;
the handler only passes the event on. SQS consumers share one partial-batch
loop (``batch.each_message``), so a failed message is the only one retried.

The handlers are module-level functions of this module on purpose: Lambda
imports the handler string Chalice writes (``chalicelib.workers.<name>``), so a
handler defined inside a function would not be found (Runtime.HandlerNotFound).
For the same reason no module of this package is named like a handler: the
submodule would replace the function as the package's attribute.
"""
from __future__ import annotations

import os
from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Cron, Rate, SQSEvent

from chalicelib.observability import logs
from chalicelib.observability.invocations import handler as observed
from chalicelib.workers import (
    audit_logs, cdr_close, cdr_inbox, invoices, orders, payments, pending_files, reservations, voice_control,
    voice_delivery)
from chalicelib.workers.batch import BatchResponse

bp = Blueprint(__name__)
# Lambda imports this package, not app.py, for these functions: JSON lines and
# redaction are set up here too. Each handler below is ``observed``: a
# correlation scope per invocation (per message: workers/batch.py) and one
# metrics flush at its end (docs/operations.md).
logs.configure()


def _queue(variable: str, default: str) -> str:
    # The stage's physical queue name (config.json environment_variables): the
    # chalice CLI (package, and the local pump through infra/local/chalice_app.py)
    # imports the app with the stage's environment variables set.
    return os.environ.get(variable) or default


@bp.lambda_function(name="audit_ingest")
@observed("audit_ingest", "logs")
def audit_ingest(event: dict[str, Any], context: Any) -> dict[str, int]:
    # CloudWatch Logs subscription: the API function's audit lines, batched.
    return audit_logs.handle(event)


@bp.on_sqs_message(queue=_queue("ORDERS_QUEUE", f"dialtone-{os.environ.get('DIALTONE_STAGE', 'dev')}-orders"),
                   batch_size=10, name="order_worker")
@observed("order_worker", "queue")
def order_worker(event: SQSEvent) -> BatchResponse:
    return orders.handle(event)


@bp.schedule("rate(1 minute)", name="reservation_sweeper")
@observed("reservation_sweeper", "schedule")
def reservation_sweeper(event: CloudWatchEvent) -> dict[str, Any]:
    return reservations.sweep()


# Files a crashed upload left pending (tagged, or under pending/) although
# their record is committed: settled well before the lifecycle rules expire them.
@bp.schedule(Rate(10, unit=Rate.MINUTES), name="settle_pending_files")
@observed("settle_pending_files", "schedule")
def settle_pending_files(event: CloudWatchEvent) -> dict[str, Any]:
    return pending_files.sweep()


# One message per invocation (batch_size=1): a part uses most of a function's
# time, so batching would only risk timeouts.
@bp.on_sqs_message(queue=_queue("CDR_FILES_QUEUE", "dialtone-local-cdr-files"), batch_size=1, name="cdr_files")
@observed("cdr_files", "queue")
def cdr_files(event: SQSEvent) -> BatchResponse:
    return cdr_inbox.handle(event)


# 00:15 UTC, for yesterday.
@bp.schedule("cron(15 0 * * ? *)", name="cdr_daily_close")
@observed("cdr_daily_close", "schedule")
def cdr_daily_close(event: CloudWatchEvent) -> None:
    cdr_close.close_yesterday()


@bp.schedule(Rate(10, unit=Rate.MINUTES), name="reconcile_payments")
@observed("reconcile_payments", "schedule")
def reconcile_payments(event: CloudWatchEvent) -> dict[str, int]:
    return payments.reconcile()


# Every hour at :05 on the 1st and 2nd of the month, until every tenant's
# previous month is done.
@bp.schedule(Cron(5, "*", "1-2", "*", "?", "*"), name="close_invoices")
@observed("close_invoices", "schedule")
def close_invoices(event: CloudWatchEvent) -> dict[str, Any]:
    return invoices.queue_jobs()


@bp.on_sqs_message(queue=_queue("INVOICE_JOBS_QUEUE", "dialtone-local-invoice-jobs"), batch_size=5,
                   name="invoice_jobs")
@observed("invoice_jobs", "queue")
def invoice_jobs(event: SQSEvent) -> BatchResponse:
    return invoices.handle(event)


# One call per invocation: call control lives as long as the call (timeout 900 s).
@bp.on_sqs_message(queue=_queue("VOICE_CALLS_QUEUE", "dialtone-local-voice-calls"), batch_size=1,
                   name="voice_calls")
@observed("voice_calls", "queue")
def voice_calls(event: SQSEvent) -> BatchResponse:
    return voice_control.handle(event)


# Flushes of a call's events to one event.generic hook, signed, in order.
@bp.on_sqs_message(queue=_queue("VOICE_WEBHOOKS_QUEUE", "dialtone-local-voice-webhooks"), batch_size=10,
                   name="voice_webhooks")
@observed("voice_webhooks", "queue")
def voice_webhooks(event: SQSEvent) -> BatchResponse:
    return voice_delivery.handle(event)
