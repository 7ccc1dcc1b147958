"""The voice consumers get every message twice and out of order (SQS is
at-least-once and unordered): the effects happen once.

- ``voice_calls``: each call's control message twice, the calls' messages in
  reverse: each call runs once (one claim, its history with each event once),
  its events are recorded once per hook, and its CDR is handed off once (one
  object in the tenant's inbox, one row, one PUT).
- ``voice_webhooks``: every batch given twice, the second copy reversed
  (the flushes of each event, the retry of a failed delivery, any message a
  refused lease passes on): each event reaches the hook with one 2xx, and its
  record says delivered once.

Webhooks are at-least-once by contract (docs/voice-api.md): a duplicate would
be allowed if it carried the same id and body. Without faults there is none,
and the tests hold the pipeline to that."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.support.injection.webhook_flows import WebhookDelivery
from tests.support.harness.events import sqs_event
from tests.support.injection.faults import Faults
from tests.support.surfaces.voice_queues import Receiver, Sqs, invoke


def twice_reversed(got: list[Any]) -> list[Any]:
    return got + got[::-1]


def _exactly_once(flow: WebhookDelivery) -> None:
    """On top of the flow's own checks (at least once, same id and body, in order)."""
    from chalicelib.store.voice import calls as call_store, deliveries as delivery_store

    flow.check()
    answers = Counter(delivery for (delivery, _), status in zip(flow.up.requests, flow.up.answers) if status < 300)
    for record in delivery_store.deliveries_of_hook(flow.tenant, flow.hooks["up"], limit=10_000):
        assert answers[record["deliveryId"]] == 1, f"event {record['seq']} of call {record['callId']}: " \
                                                   f"{answers[record['deliveryId']]} 2xx answers"
        assert [a["status"] for a in record["attempts"]].count(204) == 1, record["attempts"]
    for call_id in flow.calls:
        history = (call_store.get_call(flow.tenant, call_id) or {})["history"]
        assert [h["event"] for h in history].count("call.initiated") == 1, history


def test_call_control_given_each_message_twice_out_of_order_runs_each_call_once(
        tenant: dict[str, Any], receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    from chalicelib.services.voice import calls

    flow = WebhookDelivery(tenant, *receivers, hook_names=("up",))
    made = [calls.create_call(principal=flow.principal, account=flow.account, body=body)
            for body in (_answered(), _answered())]
    flow.calls += [call["id"] for call in made]
    bodies = [json.dumps(m) for m in flow.sqs.purge("voice_calls")]
    assert len(bodies) == 2
    with Faults() as faults:  # no fault armed: it counts the calls
        faults.record()
        for body in bodies[::-1] + bodies:  # batch size 1: one invocation each
            assert invoke("voice_calls", sqs_event(body)) == {"batchItemFailures": []}
        assert faults.calls.count("s3.PutObject") == 2, "a CDR handed off twice"
    flow.sqs.settle()
    _exactly_once(flow)
    ended = [_call(flow, call["id"]) for call in made]
    assert {c["state"] for c in ended} == {"completed"} and all(c["duration"] > 0 for c in ended)  # billable
    _one_cdr_each(flow, made)


def test_webhook_delivery_given_each_message_twice_out_of_order_delivers_each_event_once(
        tenant: dict[str, Any], receivers: tuple[Receiver, Receiver, Sqs]) -> None:
    from chalicelib.services.voice import calls

    flow = WebhookDelivery(tenant, *receivers, hook_names=("up",))
    for body in (_answered(), _answered()):
        flow.calls.append(calls.create_call(principal=flow.principal, account=flow.account, body=body)["id"])
    flow.sqs.drain("voice_calls")  # each call's events flushed: a message per event and hook
    flow.sqs.order = twice_reversed  # from here every voice_webhooks batch comes twice, the copy reversed
    flow.sqs.settle()
    assert flow.sqs.handled >= 2 * 2 * 5, "the batches were not given twice"
    _exactly_once(flow)


def _answered() -> dict[str, Any]:
    from tests.support.surfaces.voice import EXAMPLE_1

    return dict(EXAMPLE_1)  # answers after 2 s, says its text, hangs up: 5 events


def _call(flow: WebhookDelivery, call_id: int) -> dict[str, Any]:
    from chalicelib.store.voice import calls as store

    return store.get_call(flow.tenant, call_id) or {}


def _one_cdr_each(flow: WebhookDelivery, made: list[dict[str, Any]]) -> None:
    """One object per call in the tenant's inbox, each with the call's one row."""
    from chalicelib import settings
    from chalicelib.services.calls import inbox
    from chalicelib.store.clients import client

    prefix = inbox.inbox_key(flow.tenant, "")
    listed = client("s3").list_objects_v2(Bucket=settings.blob_bucket(), Prefix=prefix).get("Contents", [])
    assert sorted(o["Key"] for o in listed) == sorted(_call(flow, c["id"])["cdr"] for c in made)
    for found in listed:
        body = client("s3").get_object(Bucket=settings.blob_bucket(), Key=found["Key"])["Body"].read().decode()
        assert len(body.strip().splitlines()) == 2, body  # the header and the call's row
