"""Lambda's SQS event source mapping, for one queue and one handler.

Long-polls the queue, hands batches of up to ``batch_size`` messages to the
handler as the real SQS event, and settles the batch as Lambda does with
ReportBatchItemFailures: a normal return deletes every message except those
named in ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}``; an
exception deletes none. What is not deleted becomes visible again after the
queue's visibility timeout, and SQS itself moves a message to the
dead-letter queue once its RedrivePolicy's maxReceiveCount is used up.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from chalice import Chalice
from chalice.app import SQSEventConfig

from infra.local.lambda_function import LambdaFunction

_log = logging.getLogger(__name__)
MAX_RECEIVE = 10  # SQS hands out at most 10 messages per ReceiveMessage
LONG_POLL_SECONDS = 20


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    deleted: int
    failed: int


class QueueConsumer:
    def __init__(self, function: LambdaFunction, *, sqs: Any, queue_url: str, queue_arn: str,
                 batch_size: int = 10, batching_window_seconds: int = 0) -> None:
        self.function = function
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self.batching_window_seconds = batching_window_seconds
        self._sqs = sqs
        self._region = queue_arn.split(":")[3]

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the emulator restarting, say: keep polling like Lambda does
                _log.exception("polling %s failed", self.queue_url)
                stop.wait(1.0)

    def poll_once(self, wait_seconds: int = LONG_POLL_SECONDS) -> BatchOutcome:
        """Receive one batch (waiting up to ``wait_seconds`` for a first message), invoke, settle."""
        messages = self._receive_batch(wait_seconds)
        if not messages:
            return BatchOutcome(0, 0, 0)
        event = {"Records": [self._record(m) for m in messages]}
        try:
            result = self.function.invoke(event)
        except Exception:
            _log.exception("%s failed; %d messages return after the visibility timeout",
                           self.function.name, len(messages))
            return BatchOutcome(len(messages), 0, len(messages))
        failed = self._failed_ids(result, {m["MessageId"] for m in messages})
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete(done)
        return BatchOutcome(len(messages), len(done), len(failed))

    def _receive_batch(self, wait_seconds: int) -> list[dict[str, Any]]:
        messages = self._receive(min(self.batch_size, MAX_RECEIVE), wait_seconds)
        # Beyond 10 messages Lambda keeps gathering for the batching window.
        deadline = time.monotonic() + self.batching_window_seconds
        while messages and len(messages) < self.batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wait = min(LONG_POLL_SECONDS, max(1, round(left)))  # whole seconds is all SQS takes
            messages.extend(self._receive(min(self.batch_size - len(messages), MAX_RECEIVE), wait))
        return messages

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=count, WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
        )
        return answer.get("Messages", [])

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {name: _attribute(value)
                                  for name, value in message.get("MessageAttributes", {}).items()},
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self._region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _failed_ids(self, result: Any, batch_ids: set[str]) -> set[str]:
        if not isinstance(result, dict) or not result.get("batchItemFailures"):
            return set()
        failed = {str(f.get("itemIdentifier") or "") for f in result["batchItemFailures"]}
        if not failed <= batch_ids:
            # Lambda treats an identifier that is not in the batch as a failure of the whole batch.
            _log.error("%s reported unknown itemIdentifier(s) %s; the whole batch is retried",
                       self.function.name, sorted(failed - batch_ids))
            return batch_ids
        return failed

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_RECEIVE):
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                       for n, m in enumerate(messages[start:start + MAX_RECEIVE])]
            answer = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in answer.get("Failed", []):
                _log.error("could not delete a message from %s: %s", self.queue_url, failure)


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda shows it (camelCase, binary as base64)."""
    shown: dict[str, Any] = {"dataType": value["DataType"], "stringListValues": [], "binaryListValues": []}
    if "StringValue" in value:
        shown["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shown["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return shown


def consumers_for(app: Chalice, functions: dict[str, LambdaFunction], sqs: Any) -> list[QueueConsumer]:
    """One consumer per ``@app.on_sqs_message`` handler; ``functions`` by handler name."""
    consumers = []
    for source in app.event_sources:
        if not isinstance(source, SQSEventConfig):
            continue
        name = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            raise LookupError(f"handler {source.name} consumes queue {name!r}, "
                              f"which infra/resources.json does not create for this stage") from None
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        consumers.append(QueueConsumer(functions[source.name], sqs=sqs, queue_url=url, queue_arn=arn,
                                       batch_size=source.batch_size,
                                       batching_window_seconds=source.maximum_batching_window_in_seconds))
    return consumers
