"""The one SQS partial-batch loop, on canned SQS batches."""
from __future__ import annotations

import json

from chalice.app import SQSEvent

from chalicelib.workers.batch import each_message
from tests.support.harness import events


def test_each_message_is_handled_in_order_and_only_failures_are_reported() -> None:
    event = events.sqs_event({"n": 1}, "not json", {"n": 3}, {"n": 4})
    ids = events.message_ids(event)
    assert len(set(ids)) == 4  # SQS gives every message of a batch its own id
    handled = []

    def handle(message: dict) -> None:
        handled.append(message["n"])
        if message["n"] == 3:
            raise RuntimeError("this one fails")

    answer = each_message(event, handle, what="test")
    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]}
    assert handled == [1, 3, 4]  # a failure does not stop the batch


def test_chalice_sqs_events_and_lambda_dicts_are_the_same_batch() -> None:
    event = events.load("sqs_orders", tenant="T1")
    seen: list[dict] = []
    assert each_message(SQSEvent(event, None), seen.append, what="test") == {"batchItemFailures": []}
    assert seen == [json.loads(r["body"]) for r in event["Records"]]
    assert seen[0] == {"tenant": "T1", "orderId": 900001}


def test_an_empty_batch_reports_nothing() -> None:
    assert each_message({"Records": []}, print, what="test") == {"batchItemFailures": []}
