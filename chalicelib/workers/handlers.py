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

from chalice import Blueprint, Rate

bp = Blueprint(__name__)


@bp.lambda_function(name="audit_ingest")
def audit_ingest(event: dict[str, Any], context: Any) -> dict[str, int]:
    # CloudWatch Logs subscription: the API function's audit lines, batched.
    from chalicelib.workers.audit_ingest import handle_log_subscription

    return handle_log_subscription(event)


# The queue's name is the stage's: the chalice CLI (package, and the local
# pump through infra/local/chalice_app.py) imports this module with the
# stage's environment variables set.
@bp.on_sqs_message(queue=os.environ.get("CDR_FILES_QUEUE", "dialtone-local-cdr-files"), batch_size=1,
                   name="cdr_files")
def cdr_files(event: Any) -> dict[str, Any]:
    # S3 notifications of cdr-inbox/<tenant>/ objects, and the byte-range
    # parts of split files. One message per invocation (batch_size=1): a part
    # uses most of a function's time, so batching would only risk timeouts.
    from chalicelib.services import cdrs

    failures = []
    for record in event:
        message_id = record.to_dict()["messageId"]
        try:
            cdrs.handle_notification(json.loads(record.body))
        except Exception:  # noqa: BLE001 - retried by SQS, dead-lettered after 5 receives
            logging.getLogger(__name__).exception("CDR message %s failed", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


@bp.schedule("cron(15 0 * * ? *)", name="cdr_daily_close")
def cdr_daily_close(event: Any) -> None:
    # 00:15 UTC: yesterday becomes final (figures, export files, charges) for
    # every tenant; late files after that post only the difference.
    from chalicelib.services import cdrs

    cdrs.close_yesterday()


@bp.schedule(Rate(10, unit=Rate.MINUTES), name="reconcile_payments")
def reconcile_payments(event: Any) -> dict[str, int]:
    # Card payments whose gateway outcome was unknown (a timeout): ask the
    # gateway and settle each exactly once (the credit is keyed on the payment).
    from chalicelib.services.payments import reconcile_all

    return reconcile_all()
