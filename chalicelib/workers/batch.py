"""The one SQS partial-batch loop: every queue consumer hands it the event and
what to do with one message.

Every SQS event source is deployed with ReportBatchItemFailures
(infra/merge_template.py): Lambda deletes the batch's messages except those
named in ``batchItemFailures``, which come back after the visibility timeout
and go to the dead-letter queue after 5 receives. So each message is handled
on its own and a failure is reported for that message only; raising out of
the handler instead would redeliver the messages that succeeded too.

Each message is handled in its own correlation scope: the id its publisher
put on it (``correlationId``, chalicelib/store/queues.py), else its message
id; so an order's processing logs under the id of the request that queued it.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable, Iterable, Mapping, TypedDict

from chalicelib.observability import correlation, metrics


class ItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    batchItemFailures: list[ItemFailure]


_log = logging.getLogger(__name__)


def each_message(event: Any, handle: Callable[[Any], object], *, what: str) -> BatchResponse:
    """Call ``handle`` with each record's JSON body, in order; report the
    records whose body is not JSON or whose ``handle`` raised.

    ``event``: Chalice's SQSEvent, or Lambda's event dict (``{"Records": [...]}``)."""
    failures: list[ItemFailure] = []
    outer = correlation.current()
    for record in records(event):
        message_id = str(record["messageId"])
        with correlation.scope(correlation_id=correlation.from_record(record) or message_id,
                               surface=outer.surface if outer else "queue",
                               function=outer.function if outer else what, request_id=message_id):
            started = time.perf_counter()
            try:
                handle(json.loads(record["body"]))
            except Exception:  # noqa: BLE001 - any failure is this message's alone; SQS retries it
                _log.exception("%s message %s failed", what, message_id)
                metrics.count("MessagesFailed", Consumer=what)
                failures.append({"itemIdentifier": message_id})
            else:
                _log.info("%s message %s handled", what, message_id,
                          extra={"ms": round((time.perf_counter() - started) * 1000, 1)})
    return {"batchItemFailures": failures}


def records(event: Any) -> Iterable[Mapping[str, Any]]:
    """The SQS records of ``event`` as Lambda sends them."""
    if isinstance(event, Mapping):
        return list(event.get("Records", []))
    return [record.to_dict() for record in event]
