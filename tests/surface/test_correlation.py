"""A request's correlation id: echoed as X-Request-Id, on every log line of
the request, carried by the SQS message it sends, and on every log line of
the worker that processes that message; the worker's metrics are flushed
as EMF at the end of its invocation (chalicelib/observability)."""
from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from chalice.local import LambdaContext

from chalicelib.observability import metrics
from tests.support.checks import emf, log_lines
from tests.support.harness import events
from tests.support.surfaces.carrier import Carrier, chalice_sender, landlines, make_shop

TRUNK = {"title": "main", "primaryTrunk": "203.0.113.10", "primaryPrefix": "1234", "primaryPort": "5060",
         "billingType": "Unmetered", "sessions": "20", "mou": "Unlimited"}
pytestmark = pytest.mark.aws_state_shared_by_module


@pytest.fixture(scope="module")
def shop(aws: None) -> Any:
    return make_shop(landlines("206219", 8), customers=1)


@pytest.fixture()
def carrier(client: Any, shop: Any) -> Carrier:
    account = shop.accounts[0]
    return Carrier(chalice_sender(client), shop.keys[account], account)


def queued_order(carrier: Carrier) -> int:
    tg = carrier("defineTrunk", **TRUNK)[1]["tg_id"]
    reserve = carrier("bulkreserve", category="landline", state="WA", quantity="2")[1]["reserveId"]
    return int(carrier("gen_order", reserveId=reserve, trunk_id=tg)[1]["orderId"])


def process_order(client: Any, carrier: Carrier, order_id: int, headers: dict[str, str]) -> Any:
    body = {"token": carrier.key, "accountno": carrier.account, "orderId": str(order_id)}
    return client.post("/carrier/process_order", body=json.dumps(body),
                       headers={"Content-Type": "application/json", **headers})


def received_orders() -> list[dict[str, Any]]:
    """The orders queue's messages as Lambda's event records (attributes included)."""
    from chalicelib.store import queues
    from chalicelib.store.clients import client as aws_client

    sqs, url = aws_client("sqs"), queues.queue_url("orders")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   MessageAttributeNames=["All"]).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1",
             "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:dialtone-test-orders",
             "messageAttributes": {name: {"dataType": a["DataType"], "stringValue": a["StringValue"]}
                                   for name, a in m.get("MessageAttributes", {}).items()}}
            for m in messages]


def run_order_worker(records: list[dict[str, Any]]) -> Any:
    from app import app

    context = LambdaContext(function_name="dialtone-test-order_worker", memory_size=512, max_runtime_ms=60_000)
    return app.handler_map["order_worker"]({"Records": records}, context)


def test_an_orders_processing_logs_under_the_id_of_the_request_that_queued_it(
        client: Any, carrier: Carrier, capsys: pytest.CaptureFixture[str]) -> None:
    order_id = queued_order(carrier)
    wanted = f"order-{uuid.uuid4()}"
    metrics.discard()

    with log_lines.captured() as logged:
        answer = process_order(client, carrier, order_id, {"X-Request-Id": wanted})
        assert answer.status_code == 200 and answer.headers["X-Request-Id"] == wanted
        (record,) = received_orders()
        assert record["messageAttributes"]["correlationId"]["stringValue"] == wanted
        assert run_order_worker([record]) == {"batchItemFailures": []}

    lines = logged.lines()
    request = [line for line in lines if line.get("route") == "/carrier/process_order"]
    assert [(r["correlation_id"], r["status"], r["surface"], r["function"]) for r in request] == [
        (wanted, 200, "carrier", "api_handler")]
    handled = [line for line in lines if line["message"] == f"order message {record['messageId']} handled"]
    assert [(h["correlation_id"], h["request_id"], h["function"], h["surface"]) for h in handled] == [
        (wanted, record["messageId"], "order_worker", "queue")]
    documents = emf.documents(capsys.readouterr().out)  # the worker's flush at the end of its invocation
    assert emf.totals(documents)[("OrdersProcessed", (("Outcome", "complete"),))] == 1


def test_without_an_id_of_its_own_the_request_gets_one_and_its_message_carries_it(
        client: Any, carrier: Carrier) -> None:
    order_id = queued_order(carrier)

    answer = process_order(client, carrier, order_id, {"X-Request-Id": "not an id\r\nforged: line"})

    given = answer.headers["X-Request-Id"]
    assert given and given != "not an id" and " " not in given
    (record,) = received_orders()
    assert record["messageAttributes"]["correlationId"]["stringValue"] == given
    assert run_order_worker([record]) == {"batchItemFailures": []}


def test_x_correlation_id_is_echoed_under_both_names(client: Any) -> None:
    answer = client.get("/carrier/openapi.json", headers={"X-Correlation-Id": "corr-77"})
    assert answer.status_code == 200
    assert (answer.headers["X-Request-Id"], answer.headers["X-Correlation-Id"]) == ("corr-77", "corr-77")


def gateway(event: dict[str, Any]) -> dict[str, Any]:
    from app import app

    answer: dict[str, Any] = app(event, LambdaContext(function_name="dialtone-test-api_handler", memory_size=1024,
                                                      max_runtime_ms=30_000))
    return answer


def test_behind_api_gateway_the_id_is_the_gateways_request_id(aws: None) -> None:
    event = events.load("apigateway_proxy")
    with log_lines.captured() as logged:
        answer = gateway(event)
    given = event["requestContext"]["requestId"]
    assert answer["statusCode"] == 200 and answer["headers"]["X-Request-Id"] == given
    (line,) = [line for line in logged.lines() if line.get("route") == event["resource"]]
    assert (line["correlation_id"], line["request_id"], line["surface"]) == (given, given, "platform")


def test_refusals_of_the_guard_carry_the_id_too(aws: None) -> None:
    event = events.load("apigateway_proxy")
    event.update(resource="/{proxy+}", path="/carrier/no_such_route", pathParameters={"proxy": "carrier/no_such_route"},
                 headers={**event["headers"], "X-Request-Id": "lost-1"})
    event["requestContext"].update(resourcePath="/{proxy+}", path="/api/carrier/no_such_route")
    answer = gateway(event)
    assert answer["statusCode"] == 404 and answer["headers"]["X-Request-Id"] == "lost-1"


def test_a_message_sent_outside_any_request_logs_under_its_message_id() -> None:
    record = {"messageId": "m-1", "receiptHandle": "r", "body": json.dumps({"tenant": "none", "orderId": 1}),
              "attributes": {}, "messageAttributes": {}}
    with log_lines.captured() as logged:
        assert run_order_worker([record]) == {"batchItemFailures": []}
    (handled,) = [line for line in logged.lines() if line["message"] == "order message m-1 handled"]
    assert handled["correlation_id"] == "m-1"


def test_a_cdr_upload_is_taken_in_under_the_id_of_the_request_that_granted_it(client: Any,
                                                                             tenant: dict[str, Any]) -> None:
    from chalicelib import settings
    from chalicelib.store.clients import client as aws_client

    wanted = f"upload-{uuid.uuid4()}"
    granted = json.loads(client.post("/carrier/cdr_upload", body=urlencode({
        "token": tenant["user"]["api_key"], "filename": "switch.csv"}), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Request-Id": wanted}).body)
    fields = granted["fields"]
    assert fields["x-amz-meta-correlation-id"] == wanted
    assert {"x-amz-meta-correlation-id": wanted} in json.loads(base64.b64decode(fields["policy"]))["conditions"]
    # What S3 makes of the POST (moto in-process cannot take one; the local
    # runtime does, tests/integration/carrier/test_cdr_upload.py): the object, its metadata.
    aws_client("s3").put_object(Bucket=settings.blob_bucket(), Key=fields["key"], Metadata={"correlation-id": wanted},
                                Body=b"call_id,direction,account,trunk_id,from,to,start,answer,end,billsec,disposition\n")
    event = events.load("s3_object_created_via_sqs", key=quote_plus(fields["key"]))

    with log_lines.captured() as logged:
        from app import app

        context = LambdaContext(function_name="dialtone-test-cdr_files", memory_size=1024, max_runtime_ms=60_000)
        assert app.handler_map["cdr_files"](event, context) == {"batchItemFailures": []}

    (taken,) = [line for line in logged.lines() if line["message"] == f"CDR file {fields['key']} taken in"]
    assert (taken["correlation_id"], taken["function"]) == (wanted, "cdr_files")
    assert taken["outcome"]["rows"] == 0
