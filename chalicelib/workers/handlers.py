"""Every event handler, on one blueprint. Handlers stay thin: decode the
event, call one service, report what failed so only that is retried.

They are module-level functions of this module on purpose: Lambda imports the
handler string Chalice writes (``chalicelib.workers.handlers.<name>``), so a
handler defined inside a function would not be found (Runtime.HandlerNotFound).
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any

from chalice import Blueprint, Cron, Rate

bp = Blueprint(__name__)


@bp.lambda_function(name="audit_ingest")
def audit_ingest(event: dict[str, Any], context: Any) -> dict[str, int]:
    # CloudWatch Logs subscription: the API function's audit lines, batched.
    from chalicelib.workers.audit_ingest import handle_log_subscription

    return handle_log_subscription(event)


def _orders_queue() -> str:
    # The stage's physical queue name (config.json ORDERS_QUEUE); Chalice reads
    # it when the app is loaded for packaging or for the local worker pump.
    import os

    return os.environ.get("ORDERS_QUEUE") or f"dialtone-{os.environ.get('DIALTONE_STAGE', 'dev')}-orders"


@bp.on_sqs_message(queue=_orders_queue(), batch_size=10, name="order_worker")
def order_worker(event: Any) -> dict[str, Any]:
    # Number orders queued by process_order: charge and activate, once each.
    from chalicelib.workers.orders import handle_order_records

    return handle_order_records(event)


@bp.schedule("rate(1 minute)", name="reservation_sweeper")
def reservation_sweeper(event: Any) -> dict[str, Any]:
    # Expired reservations go back to availability without anyone acting.
    from chalicelib.workers.orders import sweep_reservations

    return sweep_reservations()


# The queue's name is the stage's: the chalice CLI (package, and the local
# pump through infra/local/chalice_app.py) imports this module with the
# stage's environment variables set.
@bp.on_sqs_message(queue=os.environ.get("CDR_FILES_QUEUE", "dialtone-local-cdr-files"), batch_size=1,
                   name="cdr_files")
def cdr_files(event: Any) -> dict[str, Any]:
    # S3 notifications of cdr-inbox/<tenant>/ objects, and the byte-range
    # parts of split files. One message per invocation (batch_size=1): a part
    # uses most of a function's time, so batching would only risk timeouts.
    from chalicelib.services.calls import inbox

    failures = []
    for record in event:
        message_id = record.to_dict()["messageId"]
        try:
            inbox.handle_notification(json.loads(record.body))
        except Exception:  # noqa: BLE001 - retried by SQS, dead-lettered after 5 receives
            logging.getLogger(__name__).exception("CDR message %s failed", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


@bp.schedule("cron(15 0 * * ? *)", name="cdr_daily_close")
def cdr_daily_close(event: Any) -> None:
    # 00:15 UTC: yesterday becomes final (figures, export files, charges) for
    # every tenant; late files after that post only the difference.
    from chalicelib.services.calls import daily

    daily.close_yesterday()


@bp.schedule(Rate(10, unit=Rate.MINUTES), name="reconcile_payments")
def reconcile_payments(event: Any) -> dict[str, int]:
    # Card payments whose gateway outcome was unknown (a timeout): ask the
    # gateway and settle each exactly once (the credit is keyed on the payment).
    from chalicelib.services.money.payments import reconcile_all

    return reconcile_all()


# Every hour at :05 on the 1st and 2nd of the month: queue one job per tenant
# whose previous month is not done yet; the invoice_jobs consumer closes each
# tenant's month (tenants in parallel), and a job stopped by its time budget
# queues its own continuation. Once every tenant is done a run costs one
# GetItem per tenant and sends nothing.
@bp.schedule(Cron(5, "*", "1-2", "*", "?", "*"), name="close_invoices")
def close_invoices(event: Any) -> dict[str, Any]:
    from chalicelib.services.money import invoices

    return invoices.fan_out(month=invoices.month_to_close())


@bp.on_sqs_message(queue=os.environ.get("INVOICE_JOBS_QUEUE", "dialtone-local-invoice-jobs"), batch_size=5,
                   name="invoice_jobs")
def invoice_jobs(event: Any) -> dict[str, Any]:
    # {"tenant", "month"} per message. Small tenants take seconds, so a few
    # share an invocation; each later one gets what is left of the time.
    import time

    from chalicelib.services.money import invoices

    context = getattr(event, "context", None)
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 780
    # Stop starting new pages a minute before Lambda would cut the run off.
    deadline = time.monotonic() + max(remaining - 60, 1)
    failures = []
    for record in event:
        message_id = record.to_dict()["messageId"]
        try:
            message = json.loads(record.body)
            invoices.run_job(tenant=str(message["tenant"]), month=str(message["month"]), deadline=deadline)
        except Exception:  # noqa: BLE001 - retried by SQS, dead-lettered after 5 receives
            logging.getLogger(__name__).exception("invoice job %s failed", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
