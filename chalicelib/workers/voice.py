"""The voice platform's SQS consumers: call control and webhook delivery.
Each message is handled on its own; a failure is reported for that message
only (partial batch response), so SQS retries just it."""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

_log = logging.getLogger(__name__)


def _each(event: Any, handle: Callable[[dict[str, Any]], Any], what: str) -> dict[str, Any]:
    failures = []
    for record in event:
        message_id = record.to_dict()["messageId"]
        try:
            handle(json.loads(record.body))
        except Exception:  # noqa: BLE001 - retried by SQS, dead-lettered after 5 receives
            _log.exception("%s message %s failed", what, message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def handle_call_records(event: Any) -> dict[str, Any]:
    from chalicelib.services.voice import control

    return _each(event, lambda m: control.run(tenant=str(m["tenant"]), call_id=int(m["call"])), "voice call")


def handle_webhook_records(event: Any) -> dict[str, Any]:
    from chalicelib.services.voice import events

    return _each(event, events.flush, "voice webhook")
