"""Publishing to SQS. Queues are named per stage in the environment
(ORDERS_QUEUE ...); their URLs are looked up once per process."""
from __future__ import annotations

import json
import threading
from typing import Any, Mapping

from chalicelib import settings
from chalicelib.observability import correlation
from chalicelib.store.clients import client

_urls: dict[str, str] = {}
_lock = threading.Lock()


def queue_url(logical: str) -> str:
    name = settings.queue_name(logical)
    url = _urls.get(name)
    if url is None:
        url = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        with _lock:
            _urls[name] = url
    return url


def publish(logical: str, body: Mapping[str, Any], *, delay_seconds: int = 0,
            attributes: Mapping[str, str] | None = None) -> str:
    """Send one message; returns its message id. Consumers must be idempotent:
    SQS delivers at least once. The message carries the current correlation id
    (chalicelib/observability/correlation.py)."""
    params: dict[str, Any] = {"QueueUrl": queue_url(logical), "MessageBody": json.dumps(body, default=str)}
    if delay_seconds:
        params["DelaySeconds"] = delay_seconds
    attributes = {**correlation.message_attributes(), **(attributes or {})}
    if attributes:
        params["MessageAttributes"] = _message_attributes(attributes)
    return str(client("sqs").send_message(**params)["MessageId"])


def publish_batch(logical: str, bodies: list[Mapping[str, Any]]) -> int:
    url, sent = queue_url(logical), 0
    attributes = correlation.message_attributes()
    for start in range(0, len(bodies), 10):
        entries: list[dict[str, Any]] = [{"Id": str(n), "MessageBody": json.dumps(b, default=str)}
                                         for n, b in enumerate(bodies[start:start + 10])]
        if attributes:
            for entry in entries:
                entry["MessageAttributes"] = _message_attributes(attributes)
        answer = client("sqs").send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused {len(answer['Failed'])} messages: {answer['Failed'][0]}")
        sent += len(entries)
    return sent


def _message_attributes(attributes: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}


def forget_urls() -> None:
    with _lock:
        _urls.clear()
