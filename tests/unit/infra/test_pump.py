"""The local pump against moto in-process: SQS batches delivered as Lambda's
SQS event, partial batch failures retried and dead-lettered, schedules fired
with EventBridge's payload. A small Chalice app defined here stands in for
app.py, whose handlers may change."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from chalice import Chalice, Rate

from infra.local import schedules
from infra.local.lambda_function import LambdaFunction
from infra.local.queue_consumer import QueueConsumer, consumers_for


@pytest.fixture()
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name="us-east-1")


def make_queue(sqs: Any, *, visibility: int = 30, max_receives: int | None = None) -> tuple[str, str, str | None]:
    """A fresh queue (and its dead-letter queue when ``max_receives``): name, url, dead-letter url."""
    name = f"pump-{uuid.uuid4().hex[:8]}"
    attributes = {"VisibilityTimeout": str(visibility)}
    dead_letters = None
    if max_receives:
        dead_letters = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives})
    return name, sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], dead_letters


def make_app(queue: str, received: list[dict[str, Any]], *, fail: frozenset[str] = frozenset(),
             crash: bool = False) -> Chalice:
    app = Chalice(app_name="pumptest")

    @app.on_sqs_message(queue=queue, batch_size=5, name="consume")
    def consume(event: Any) -> dict[str, Any]:
        records = [record.to_dict() for record in event]
        received.extend(records)
        if crash:
            raise RuntimeError("handler crashed")
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["body"] in fail]}

    @app.schedule(Rate(5, unit=Rate.MINUTES), name="tick")
    def tick(event: Any) -> None:
        received.append(event.to_dict())

    return app


def functions(app: Chalice) -> dict[str, LambdaFunction]:
    return {name: LambdaFunction(name=f"pumptest-local-{name}", handler=app.handler_map[name])
            for name in ("consume", "tick")}


def consumer(app: Chalice, sqs: Any) -> QueueConsumer:
    found = consumers_for(app, functions(app), sqs)
    assert len(found) == 1
    return found[0]


def bodies(sqs: Any, url: str) -> list[str]:
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return sorted(m["Body"] for m in answer.get("Messages", []))


def test_a_batch_arrives_as_lambdas_sqs_event_and_is_deleted(sqs: Any) -> None:
    name, url, _ = make_queue(sqs)
    received: list[dict[str, Any]] = []
    pump = consumer(make_app(name, received), sqs)
    sqs.send_message(QueueUrl=url, MessageBody="one",
                     MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}})
    sqs.send_message(QueueUrl=url, MessageBody="two")

    outcome = pump.poll_once(wait_seconds=0)

    assert (outcome.received, outcome.deleted, outcome.failed) == (2, 2, 0)
    assert pump.batch_size == 5 and pump.queue_url == url
    first = next(r for r in received if r["body"] == "one")
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"] == pump.queue_arn and pump.queue_arn.endswith(f":{name}")
    assert first["awsRegion"] == "us-east-1"
    assert first["messageId"] and first["receiptHandle"] and first["md5OfBody"]
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert first["messageAttributes"]["kind"] == {"dataType": "String", "stringValue": "order",
                                                  "stringListValues": [], "binaryListValues": []}
    assert bodies(sqs, url) == []


def test_failed_items_come_back_and_end_in_the_dead_letter_queue(sqs: Any) -> None:
    name, url, dead_letters = make_queue(sqs, visibility=1, max_receives=2)
    received: list[dict[str, Any]] = []
    pump = consumer(make_app(name, received, fail=frozenset({"bad"})), sqs)
    for body in ("ok-1", "bad", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    first = pump.poll_once(wait_seconds=0)
    assert (first.received, first.deleted, first.failed) == (3, 2, 1)
    time.sleep(1.1)  # the visibility timeout
    second = pump.poll_once(wait_seconds=0)
    assert (second.received, second.failed) == (1, 1)
    time.sleep(1.1)
    third = pump.poll_once(wait_seconds=0)  # received twice already: SQS moves it instead

    assert third.received == 0
    assert sorted(r["body"] for r in received) == ["bad", "bad", "ok-1", "ok-2"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in received if r["body"] == "bad"] == ["1", "2"]
    assert bodies(sqs, dead_letters) == ["bad"]


def test_an_exception_keeps_the_whole_batch(sqs: Any) -> None:
    name, url, _ = make_queue(sqs, visibility=1)
    pump = consumer(make_app(name, [], crash=True), sqs)
    sqs.send_message(QueueUrl=url, MessageBody="kept")

    outcome = pump.poll_once(wait_seconds=0)

    assert (outcome.received, outcome.deleted, outcome.failed) == (1, 0, 1)
    time.sleep(1.1)
    assert bodies(sqs, url) == ["kept"]


def test_an_unknown_item_identifier_fails_the_whole_batch(sqs: Any) -> None:
    _, url, _ = make_queue(sqs, visibility=1)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    liar = LambdaFunction(name="liar", handler=lambda event, context: {
        "batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]})
    pump = QueueConsumer(liar, sqs=sqs, queue_url=url, queue_arn=arn)
    sqs.send_message(QueueUrl=url, MessageBody="kept")

    outcome = pump.poll_once(wait_seconds=0)

    assert (outcome.deleted, outcome.failed) == (0, 1)


def test_a_rate_schedule_fires_with_eventbridges_scheduled_event() -> None:
    received: list[dict[str, Any]] = []
    app = make_app("unused", received)
    start = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    scheduler = schedules.Scheduler(schedules.jobs_for(app, functions(app)), start=start,
                                    region="us-east-1", account="000000000000")

    assert scheduler.fire_due(start + timedelta(minutes=4, seconds=59)) == []
    assert scheduler.fire_due(start + timedelta(minutes=5)) == ["pumptest-local-tick"]

    event = received[0]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-03-01T08:05:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/pumptest-local-tick-event"]
    assert (event["account"], event["region"], event["detail"]) == ("000000000000", "us-east-1", {})
    assert scheduler.next_due == start + timedelta(minutes=10)


@pytest.mark.parametrize("expression, after, expected", [
    # AWS counts weekdays from SUN=1: 2-6 is Monday to Friday.
    ("cron(0 12 ? * 2-6 *)", datetime(2026, 1, 3, 13, 0), datetime(2026, 1, 5, 12, 0)),
    ("cron(30 6 ? * MON-FRI *)", datetime(2026, 1, 2, 7, 0), datetime(2026, 1, 5, 6, 30)),
    ("cron(0 2 1 * ? *)", datetime(2026, 1, 15), datetime(2026, 2, 1, 2, 0)),
    ("cron(0 0 ? * 1 2027)", datetime(2026, 6, 1), datetime(2027, 1, 3, 0, 0)),  # first Sunday of 2027
    ("cron(0 10 ? * 6#3 *)", datetime(2026, 1, 1), datetime(2026, 1, 16, 10, 0)),  # third Friday
    ("rate(1 hour)", datetime(2026, 1, 1, 10, 30), datetime(2026, 1, 1, 11, 30)),
])
def test_schedule_expressions_follow_eventbridge(expression: str, after: datetime, expected: datetime) -> None:
    utc = timezone.utc
    assert schedules.parse(expression).next_after(after.replace(tzinfo=utc)) == expected.replace(tzinfo=utc)


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(5 minute)", "cron(0 12 * * * *)",
                                        "cron(0 12 * *)", "every day"])
def test_expressions_eventbridge_refuses_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):
        schedules.parse(expression)
